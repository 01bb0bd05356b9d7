import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;
const SECRET = "pyro-host-7c1d-secret-value";

describe("shells, services and secrets: bad input on every surface (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  let mcp: Client;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-sec-");
    id = (await pyro.createWorkspace({ ...HOST, secrets: { API_TOKEN: SECRET } })).workspace_id;
    mcp = await connectMcp("workspace-full");
  });
  afterAll(async () => {
    await mcp.close();
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("stores the host copy owner-only and masks the value in what it returns", async () => {
    const stored = join(sandboxDir(home.home, id), "secrets", "API_TOKEN");
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect(statSync(join(sandboxDir(home.home, id), "secrets")).mode & 0o777).toBe(0o700);
    const run = await pyro.execWorkspace({
      workspaceId: id,
      command: "echo $API_TOKEN",
      secretEnv: ["API_TOKEN"],
    });
    expect(run.stdout).toBe("[secret:API_TOKEN]\n");
    const cli = await runPyro(["workspace", "exec", id, "--secret-env", "API_TOKEN=T", "--", "echo $T"]);
    expect(cli.stdout).toBe("[secret:API_TOKEN]\n");
  });

  it("refuses bad secret names, unreadable secret files and unknown --secret-env names", async () => {
    for (const name of ["a/b", "..", "../x", "1abc", ""]) {
      await expect(pyro.createWorkspace({ ...HOST, secrets: { [name]: "v" } })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
    // Running as root, a directory is the dependable "cannot be read as a secret" case.
    await expect(pyro.createWorkspace({ ...HOST, secretFiles: { K: scratch } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const missing = await runPyro([
      "workspace",
      "create",
      "--backend",
      "host",
      "--allow-host-compat",
      "--secret-file",
      `K=${join(scratch, "missing")}`,
    ]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("cannot read the secret file for K");
    await expect(
      pyro.execWorkspace({ workspaceId: id, command: "true", secretEnv: ["NOPE"] }),
    ).rejects.toMatchObject({
      code: "SECRET_NOT_FOUND",
    });
    expect((await pyro.listWorkspaces()).count).toBe(1);
  });

  it("keeps secrets and network policy out of the workspace-core MCP profile", async () => {
    const core = await connectMcp("workspace-core");
    try {
      const tool = (await core.listTools()).tools.find((t) => t.name === "workspace_create");
      expect(Object.keys(tool?.inputSchema.properties ?? {})).not.toContain("secrets");
      const refused = (await core.callTool({
        name: "workspace_create",
        arguments: { secrets: { A: "b" } },
      })) as CallToolResult;
      expect(refused.structuredContent).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
    } finally {
      await core.close();
    }
  });

  it("reports unknown shells and services, closed shells and non-http readiness URLs", async () => {
    const call = async (name: string, args: Record<string, unknown>) =>
      (await mcp.callTool({ name, arguments: { workspace_id: id, ...args } })) as CallToolResult;
    expect((await call("shell_read", { shell_id: "sh-00000000" })).structuredContent).toMatchObject({
      error: { code: "SHELL_NOT_FOUND" },
    });
    expect((await call("service_status", { service_name: "ghost" })).structuredContent).toMatchObject({
      error: { code: "SERVICE_NOT_FOUND" },
    });
    const bad = await call("service_start", {
      service_name: "s",
      command: "sleep 5",
      readiness: { type: "http", url: "ftp://127.0.0.1/" },
    });
    expect(bad.structuredContent).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
    const cli = await runPyro([
      "workspace",
      "service",
      "start",
      id,
      "s2",
      "--ready-http",
      "file:///etc/passwd",
      "--",
      "sleep 5",
    ]);
    expect(cli.stderr).toContain("needs an http:// or https:// URL");

    const opened = await call("shell_open", {});
    const shellId = (opened.structuredContent as { shell_id: string }).shell_id;
    await call("shell_write", { shell_id: shellId, input: "exit 3" });
    // Quiet output is not the same as exited: under load the shell may take a moment to go.
    let read = await call("shell_read", { shell_id: shellId, wait_for_idle_ms: 500 });
    for (
      let tries = 0;
      tries < 20 && (read.structuredContent as { state: string }).state !== "exited";
      tries++
    )
      read = await call("shell_read", { shell_id: shellId, wait_for_idle_ms: 500 });
    expect(read.structuredContent).toMatchObject({ state: "exited", exit_code: 3 });
    expect((await call("shell_write", { shell_id: shellId, input: "echo" })).structuredContent).toMatchObject(
      {
        error: { code: "SHELL_ENDED" },
      },
    );
  });
});
