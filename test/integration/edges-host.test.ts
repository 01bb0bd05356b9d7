import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { ERROR_CATALOG } from "../../src/errors/index.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;

// What `diff -ruN before after` prints for a one-line change.
const DIFF_RUN = (from: string, to: string): string =>
  `diff -ruN before/src/app.txt after/src/app.txt
--- before/src/app.txt\t2026-12-02 14:11:42.227257150 +0000
+++ after/src/app.txt\t2026-12-02 14:11:42.227257150 +0000
@@ -1 +1 @@
-${from}
+${to}
`;

describe("sharp edges on every surface (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  let mcp: Client;
  const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
    (await mcp.callTool({ name, arguments: args })) as CallToolResult;

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-edges-");
    const seed = join(scratch, "seed");
    mkdirSync(join(seed, "src"), { recursive: true });
    writeFileSync(join(seed, "src", "app.txt"), "v1\n");
    id = (await pyro.createWorkspace({ ...HOST, seedPath: seed })).workspace_id;
    mcp = await connectMcp("workspace-full");
  });
  afterAll(async () => {
    await mcp.close();
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("a --cwd that does not exist is CWD_NOT_FOUND with its own exit code", async () => {
    const cli = await runPyro(["workspace", "exec", id, "--cwd", "no/such/dir", "--", "true"]);
    expect(cli.code).toBe(ERROR_CATALOG.CWD_NOT_FOUND.exit);
    expect(cli.stderr).toContain("error [CWD_NOT_FOUND]");
    expect(cli.stderr).toContain("hint: ");
    // Every surface links the code's entry in the shipped docs/troubleshooting.md.
    const docs = expect.stringMatching(/\/docs\/troubleshooting\.md#cwd_not_found$/);
    expect(cli.stderr).toMatch(/\ndocs: \S+\/docs\/troubleshooting\.md#cwd_not_found\n/);
    await expect(pyro.execWorkspace({ workspaceId: id, command: "true", cwd: "nope" })).rejects.toMatchObject(
      { code: "CWD_NOT_FOUND", docs },
    );
    const tool = await call("workspace_exec", { workspace_id: id, command: "true", cwd: "nope" });
    expect(tool.structuredContent).toMatchObject({ error: { code: "CWD_NOT_FOUND", docs } });
  });

  it("a shell or service started in a missing cwd is CWD_NOT_FOUND too, and leaves nothing behind", async () => {
    const shell = await runPyro(["workspace", "shell", "open", id, "--cwd", "no/such/dir"]);
    expect(shell.code).toBe(ERROR_CATALOG.CWD_NOT_FOUND.exit);
    expect(shell.stderr).toContain("error [CWD_NOT_FOUND]");
    await expect(
      pyro.startService({ workspaceId: id, serviceName: "web", command: "sleep 60", cwd: "nope" }),
    ).rejects.toMatchObject({ code: "CWD_NOT_FOUND" });
    const tool = await call("service_start", {
      workspace_id: id,
      service_name: "web",
      command: "sleep 60",
      cwd: "nope",
    });
    expect(tool.structuredContent).toMatchObject({ error: { code: "CWD_NOT_FOUND" } });
    expect((await pyro.listServices({ workspaceId: id })).services).toEqual([]);
  });

  it("applies diff -ruN, git and bare-path patches with the strip level in the result", async () => {
    const patchFile = join(scratch, "change.patch");
    writeFileSync(patchFile, DIFF_RUN("v1", "v2"));
    const cli = await runPyro(["workspace", "patch", "apply", id, "--patch-file", patchFile]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("strip=1 strip_detected=true");
    const sdk = await pyro.applyWorkspacePatch({
      workspaceId: id,
      patch: "--- src/app.txt\n+++ src/app.txt\n@@ -1 +1 @@\n-v2\n+v3\n",
    });
    expect(sdk).toMatchObject({ modified: 1, strip: 0, strip_detected: true });
    const tool = await call("workspace_patch_apply", {
      workspace_id: id,
      patch: "--- x/y/src/app.txt\n+++ x/y/src/app.txt\n@@ -1 +1 @@\n-v3\n+v4\n",
      strip: 2,
    });
    expect(tool.structuredContent).toMatchObject({ modified: 1, strip: 2, strip_detected: false });
    const cliStrip = await runPyro([
      "workspace",
      "patch",
      "apply",
      id,
      "--strip",
      "3",
      "--patch",
      DIFF_RUN("v4", "v5"),
    ]);
    expect(cliStrip.code).toBe(ERROR_CATALOG.PATCH_FAILED.exit);
    const missing = await runPyro([
      "workspace",
      "patch",
      "apply",
      id,
      "--patch",
      DIFF_RUN("v9", "v10").replaceAll("src/", "lib/"),
    ]);
    expect(missing.code).toBe(ERROR_CATALOG.PATCH_FAILED.exit);
    expect(missing.stderr).toContain("looked for: /workspace/lib/app.txt, /workspace/before/lib/app.txt");
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "src/app.txt" })).content).toBe("v4\n");
  });

  it("service list shows ready for a service that passed its readiness check", async () => {
    await pyro.startService({
      workspaceId: id,
      serviceName: "web",
      command: "touch up; sleep 300",
      readiness: { type: "file", path: "up" },
    });
    await pyro.startService({ workspaceId: id, serviceName: "plain", command: "sleep 300" });
    const listed = await pyro.listServices({ workspaceId: id });
    const ready = Object.fromEntries(listed.services.map((s) => [s.service_name, s.ready]));
    expect(ready).toEqual({ web: true, plain: null });
    const cli = await runPyro(["workspace", "service", "list", id]);
    expect(cli.stdout, cli.stderr).toMatch(/service_name=web state=running ready=true/);
    const tool = await call("service_status", { workspace_id: id, service_name: "web" });
    expect(tool.structuredContent).toMatchObject({ ready: true });
    const list = await call("service_list", { workspace_id: id });
    expect(list.structuredContent).toMatchObject({
      services: expect.arrayContaining([expect.objectContaining({ service_name: "web", ready: true })]),
    });
    await pyro.stopService({ workspaceId: id, serviceName: "web" });
    await pyro.stopService({ workspaceId: id, serviceName: "plain" });
    // The same name started again without a check is not taken for ready.
    await pyro.startService({ workspaceId: id, serviceName: "web", command: "sleep 300" });
    expect((await pyro.statusService({ workspaceId: id, serviceName: "web" })).ready).toBeNull();
    await pyro.stopService({ workspaceId: id, serviceName: "web" });
  });

  it("doctor opens with its verdict, in text and in JSON", async () => {
    const text = await runPyro(["doctor"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^Runtime: (PASS|FAIL \(.+\))$/);
    const json = JSON.parse((await runPyro(["doctor", "--json"])).stdout) as Record<string, unknown>;
    expect(Object.keys(json)[0]).toBe("runtime_ok");
    expect(typeof json.runtime_ok).toBe("boolean");
    expect((await pyro.doctor()).runtime_ok).toBe(json.runtime_ok);
    const tool = await call("doctor", {});
    expect(tool.structuredContent).toMatchObject({ runtime_ok: json.runtime_ok });
    // Without an agent binary the verdict fails and names that check first.
    const broken = await runPyro(["doctor"], { PYRO_QEMU_BIN: "/nonexistent/qemu-system-x86_64" });
    expect(broken.stdout.split("\n")[0]).toMatch(/^Runtime: FAIL \(qemu: /);
    expect(readFileSync(join(scratch, "seed", "src", "app.txt"), "utf8")).toBe("v1\n");
  });
});
