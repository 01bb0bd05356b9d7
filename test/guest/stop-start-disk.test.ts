import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;

describe("stop, start and offline disk tools in a real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-disk-");
    id = (await pyro.createWorkspace({ memMib: 512, secrets: { TOKEN: "disk-secret-5e1f" } })).workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    try {
      execFileSync("umount", [join(scratch, "tiny")], { stdio: "ignore" });
    } catch {
      // not mounted
    }
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("keeps data written just before stop: offline read, export, then after start (CLI)", async () => {
    const cli = async (...args: string[]): Promise<string> => {
      const result = await runPyro(args);
      if (result.code !== 0) throw new Error(`pyro ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };
    const shell = (await cli("workspace", "shell", "open", id, "--id-only")).trim();
    await cli(
      "workspace",
      "service",
      "start",
      id,
      "ticker",
      "--",
      "while true; do date > /tmp/tick; sleep 1; done",
    );
    await cli(
      "workspace",
      "exec",
      id,
      "--",
      "echo written-before-stop > data.txt; mkdir -p sub; ln -sf /etc/shadow sub/link",
    );
    const stopped = JSON.parse(await cli("workspace", "stop", id, "--json")) as Record<string, unknown>;
    expect(stopped).toMatchObject({ state: "stopped", ended_shells: [shell], ended_services: ["ticker"] });
    expect(processesMentioning(`pyro-${id}`)).toEqual([]);

    const refused = await runPyro(["workspace", "exec", id, "--", "true"]);
    expect(refused.stderr).toContain("WORKSPACE_NOT_RUNNING");
    expect(refused.stderr).toContain(`pyro workspace start ${id}`);

    const listing = await cli("workspace", "disk", "list", id, "--recursive");
    expect(listing).toMatch(/file\s+20\s+\/workspace\/data\.txt/);
    expect(listing).toMatch(/symlink\s+\d+\s+\/workspace\/sub\/link/);
    expect(await cli("workspace", "disk", "read", id, "data.txt")).toContain("written-before-stop");
    const link = await runPyro(["workspace", "disk", "read", id, "sub/link"]);
    expect(link.stderr).toContain("is a symbolic link to /etc/shadow");
    const secrets = await runPyro(["workspace", "disk", "list", id, "/run/pyro-secrets"]);
    expect(secrets.code).not.toBe(0);

    const image = join(scratch, "disk.img");
    await cli("workspace", "disk", "export", id, "--output", image);
    execFileSync("e2fsck", ["-fn", image], { stdio: "ignore" });
    const cat = execFileSync("debugfs", ["-R", "cat /workspace/data.txt", image], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    expect(cat.toString()).toBe("written-before-stop\n");
    // grep exits 1 when the bytes are nowhere in the 2 GiB image.
    expect(spawnSync("grep", ["-q", "-a", "disk-secret-5e1f", image]).status).toBe(1);

    const started = JSON.parse(await cli("workspace", "start", id, "--json")) as Record<string, unknown>;
    expect(started).toMatchObject({ state: "running", already_running: false, previous_stop: null });
    expect(await cli("workspace", "exec", id, "--", "cat data.txt; cat /run/pyro-secrets/TOKEN")).toBe(
      "written-before-stop\n[secret:TOKEN]",
    );
    const running = await runPyro(["workspace", "disk", "list", id]);
    expect(running.stderr).toContain("WORKSPACE_RUNNING");
    expect((await pyro.diffWorkspace({ workspaceId: id })).summary).toMatchObject({ added: 2 });
  });

  it("handles stop twice, start on a running workspace, and bad export targets", async () => {
    expect((await pyro.startWorkspace({ workspaceId: id })).already_running).toBe(true);
    await pyro.stopWorkspace({ workspaceId: id });
    expect((await pyro.stopWorkspace({ workspaceId: id })).already_stopped).toBe(true);
    const image = join(scratch, "exists.img");
    writeFileSync(image, "keep");
    await expect(pyro.exportWorkspaceDisk({ workspaceId: id, outputPath: image })).rejects.toMatchObject({
      code: "OUTPUT_EXISTS",
    });
    expect(readFileSync(image, "utf8")).toBe("keep");
    // A miss on a stopped disk points to the disk listing, which works in this state.
    await expect(pyro.readWorkspaceDisk({ workspaceId: id, path: "no-such.txt" })).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      hint: expect.stringContaining(`pyro workspace disk list ${id}`),
    });
    const miss = await runPyro(["workspace", "disk", "read", id, "no-such.txt"]);
    expect(miss.stderr).toContain(`hint: List the stopped disk with \`pyro workspace disk list ${id}`);
    await expect(
      pyro.exportWorkspaceDisk({ workspaceId: id, outputPath: join(scratch, "no-such-dir", "x.img") }),
    ).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    const tiny = join(scratch, "tiny");
    mkdirSync(tiny);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", tiny]);
    const full = await pyro
      .exportWorkspaceDisk({ workspaceId: id, outputPath: join(tiny, "disk.img") })
      .catch((e: unknown) => e);
    expect(full).toMatchObject({ code: "HOST_DISK_FULL", message: expect.stringContaining(tiny) });
    expect(readdirSync(tiny)).toEqual([]);
    execFileSync("umount", [tiny]);
    await pyro.startWorkspace({ workspaceId: id });
  });

  it("recovers from kill -9 of the VM process and reports the unclean stop (MCP)", async () => {
    const qemu = processesMentioning(`pyro-${id}`).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu"),
    );
    expect(qemu).toBeDefined();
    process.kill(qemu as number, "SIGKILL");
    expect(await waitFor(() => processesMentioning(`pyro-${id}`).length === 0, 10_000)).toBe(true);
    const mcp = await connectMcp("workspace-full");
    try {
      const start = (await mcp.callTool({
        name: "workspace_start",
        arguments: { workspace_id: id },
      })) as CallToolResult;
      expect(start.structuredContent).toMatchObject({
        state: "running",
        previous_stop: expect.stringContaining("unclean"),
      });
      const exec = (await mcp.callTool({
        name: "workspace_exec",
        arguments: { workspace_id: id, command: "cat data.txt" },
      })) as CallToolResult;
      expect(exec.structuredContent).toMatchObject({ stdout: "written-before-stop\n" });
      await mcp.callTool({ name: "workspace_stop", arguments: { workspace_id: id } });
      const read = (await mcp.callTool({
        name: "workspace_disk_read",
        arguments: { workspace_id: id, path: "data.txt" },
      })) as CallToolResult;
      expect(read.structuredContent).toMatchObject({ content: "written-before-stop\n" });
    } finally {
      await mcp.close();
    }
    expect(existsSync(sandboxDir(home.home, id))).toBe(true);
  });
});
