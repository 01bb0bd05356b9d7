import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

/**
 * The guest plants git execution in /workspace (the repository an agent workflow exports back):
 * a core.fsmonitor command, a post-checkout hook, a pager set on the section header line (a pager only runs on a
 * terminal, so its removal is checked in the report), and a
 * second repository reached through a gitfile whose git directory is not named .git. Each one
 * touches a marker in a host folder when a host `git` runs it.
 */
const plant = (markers: string): string => `set -e
cd /workspace
git init -q -b main repo && cd repo
git config user.email a@b && git config user.name a
echo hi > a.txt && git add a.txt && git commit -qm one
git config core.fsmonitor "touch ${markers}/fsmonitor; false"
printf '[core] pager = "touch ${markers}/pager; cat"\\n' >> .git/config
printf '#!/bin/sh\\ntouch ${markers}/hook\\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout
cd /workspace && git init -q -b main other && cd other
echo x > f && git add f && git -c user.email=a@b -c user.name=a commit -qm c
mv .git ../hidden.d && printf 'gitdir: ../hidden.d\\n' > .git
git --git-dir=../hidden.d config core.fsmonitor "touch ${markers}/hidden; false"
chmod 0555 ../hidden.d
uname -r`;

const hostGit = (cwd: string, ...args: string[]): void => {
  execFileSync("git", args, {
    cwd,
    stdio: "ignore",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
};

/** What a user does next in the exported folder: status (fsmonitor) and a branch switch (hooks). */
function useExport(out: string): void {
  hostGit(join(out, "repo"), "status");
  hostGit(join(out, "repo"), "checkout", "-q", "-b", "next");
  hostGit(join(out, "other"), "status");
}

describe("guest-written git metadata on export", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let markers: string;
  let id: string;
  let pyro: Pyro;

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro(); // after the temporary home is set: a Pyro keeps the home it was built with
    scratch = mkdtempSync("/tmp/pyro-hgit-");
    markers = join(scratch, "markers");
    mkdirSync(markers);
    id = (await pyro.createWorkspace({ memMib: 512 })).workspace_id;
    const planted = await pyro.execWorkspace({ workspaceId: id, command: plant(markers) });
    expect(planted.exit_code, planted.stderr).toBe(0);
    // The repository was written by the guest kernel, not on this host.
    expect(planted.stdout.trim()).not.toBe(release());
    expect(readdirSync(markers)).toEqual([]);
  });
  afterAll(async () => {
    if (id !== undefined) await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("CLI: the export keeps the repositories but nothing the guest planted runs on the host", async () => {
    const out = join(scratch, "cli-out");
    const result = await runPyro(["workspace", "export", id, "/workspace", "--output", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("git metadata removed: repo/.git/config core.fsmonitor");
    expect(result.stdout).toContain("git metadata removed: repo/.git/config core.pager");
    expect(result.stdout).toContain("git metadata removed: repo/.git/hooks/post-checkout");
    expect(result.stdout).toContain("git metadata removed: hidden.d/config core.fsmonitor");
    useExport(out);
    expect(readdirSync(markers)).toEqual([]);
    // The flag keeps the hook file as written (run only in the SDK case below).
    const kept = join(scratch, "cli-trusted-out");
    const trusted = await runPyro([
      "workspace",
      "export",
      id,
      "repo",
      "--output",
      kept,
      "--trust-git-metadata",
    ]);
    expect(trusted.stdout).toContain("git metadata kept as the guest wrote it");
    expect(readFileSync(join(kept, ".git", "hooks", "post-checkout"), "utf8")).toContain("/hook");
  });

  it("MCP: the export reports what it removed in its structured result", async () => {
    const client: Client = await connectMcp(null, [], { cwd: scratch }); // its host paths live under scratch
    try {
      const out = join(scratch, "mcp-out");
      const result = (await client.callTool({
        name: "workspace_export",
        arguments: { workspace_id: id, path: "/workspace", output_path: out },
      })) as CallToolResult;
      expect(result.isError ?? false).toBe(false);
      expect(readdirSync(join(out, "repo", ".git"))).not.toContain("hooks");
      const git = (result.structuredContent as { git_metadata: Record<string, unknown> }).git_metadata;
      expect(git).toMatchObject({ trusted: false });
      expect(git.git_dirs).toEqual(expect.arrayContaining(["repo/.git", "hidden.d"]));
      expect(git.removed).toEqual(
        expect.arrayContaining([{ path: "repo/.git/config", key: "core.fsmonitor" }]),
      );
      useExport(out);
      expect(readdirSync(markers)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("SDK with trustGitMetadata: the planted programs are kept, and do run (in a temp folder)", async () => {
    const out = join(scratch, "trusted-out");
    const result = await pyro.exportWorkspace({
      workspaceId: id,
      path: "/workspace",
      outputPath: out,
      trustGitMetadata: true,
    });
    expect(result.git_metadata).toEqual({
      trusted: true,
      git_dirs: [],
      git_dir_count: 0,
      removed: [],
      removed_count: 0,
    });
    useExport(out);
    expect(readdirSync(markers).sort()).toEqual(["fsmonitor", "hidden", "hook"]);
  });
});
