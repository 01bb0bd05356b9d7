import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

// Everything the shell-script file operations once needed, and the shells themselves.
const TOOLS = [
  "find",
  "tar",
  "head",
  "realpath",
  "chmod",
  "bash",
  "sh",
  "dash",
  "mkdir",
  "cat",
  "mv",
  "mktemp",
  "stat",
  "gzip",
  "gunzip",
  "ln",
  "cp",
  "readlink",
  "touch",
  "ls",
  "rm",
];
const PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const PATCH = "--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";

describe("workspace file operations in a guest without a shell or file tools", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  beforeAll(() => {
    home = useTempPyroHome();
    scratch = mkdtempSync("/tmp/pyro-notools-");
    mkdirSync(join(scratch, "seed", "src"), { recursive: true });
    writeFileSync(join(scratch, "seed", "src", "app.txt"), "v1\n");
    symlinkSync("src/app.txt", join(scratch, "seed", "current"));
    mkdirSync(join(scratch, "push", "deep", "er"), { recursive: true });
    writeFileSync(join(scratch, "push", "deep", "er", "data.bin"), Buffer.alloc(200_000, 7));
    writeFileSync(join(scratch, "push", "top.txt"), "pushed\n");
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("lists, reads, writes, patches, diffs, syncs, exports, snapshots and resets", async () => {
    await installedGuestKernel();
    const pyro = new Pyro();
    const ws = await pyro.createWorkspace({ environment: "debian:12", seedPath: join(scratch, "seed") });
    const id = ws.workspace_id;
    try {
      await withoutTools(pyro, id, scratch);
    } finally {
      await pyro.deleteWorkspace({ workspaceId: id });
    }
    expect(processesMentioning(id)).toEqual([]);
  }, 300_000);
});

async function withoutTools(pyro: Pyro, id: string, scratch: string): Promise<void> {
  expect((await pyro.listWorkspaceFiles({ workspaceId: id })).entries.length).toBe(2);
  // Root in the guest, on the workspace's own disk: the tools go from every PATH directory.
  const doomed = PATH_DIRS.flatMap((dir) => TOOLS.map((tool) => `${dir}/${tool}`));
  const removal = await pyro.execWorkspace({ workspaceId: id, command: ["/usr/bin/rm", "-f", ...doomed] });
  expect(removal.exit_code).toBe(0);
  const shell = await pyro
    .execWorkspace({ workspaceId: id, command: "true" })
    .catch((error: unknown) => error);
  expect(shell instanceof Error || (shell as { exit_code: number }).exit_code !== 0).toBe(true);

  const listing = await pyro.listWorkspaceFiles({ workspaceId: id, path: "/workspace", recursive: true });
  expect(listing.entries.map((entry) => [entry.path, entry.type])).toEqual([
    ["current", "symlink"],
    ["src", "directory"],
    ["src/app.txt", "file"],
  ]);
  await pyro.writeWorkspaceFile({ workspaceId: id, path: "docs/new.md", text: "# new\n" });
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "docs/new.md" })).content).toBe("# new\n");
  expect((await pyro.applyWorkspacePatch({ workspaceId: id, patch: PATCH })).modified).toBe(1);
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "current" })).content).toBe("v2\n");

  const pushed = await pyro.pushWorkspaceSync({
    workspaceId: id,
    sourcePath: join(scratch, "push"),
    dest: "in",
  });
  expect(pushed.entry_count).toBeGreaterThanOrEqual(2);
  const diff = await pyro.diffWorkspace({ workspaceId: id });
  expect(diff.changes.map((change) => [change.path, change.status]).sort()).toEqual([
    ["docs/new.md", "added"],
    ["in/deep/er/data.bin", "added"],
    ["in/top.txt", "added"],
    ["src/app.txt", "modified"],
  ]);
  const out = join(scratch, "out");
  const exported = await pyro.exportWorkspace({ workspaceId: id, path: ".", outputPath: out });
  expect(exported.artifact_type).toBe("directory");
  expect(readFileSync(join(out, "in", "deep", "er", "data.bin"))).toEqual(Buffer.alloc(200_000, 7));
  expect(readlinkSync(join(out, "current"))).toBe("src/app.txt");

  await pyro.createSnapshot({ workspaceId: id, snapshotName: "patched" });
  await pyro.writeWorkspaceFile({ workspaceId: id, path: "src/app.txt", text: "v3\n" });
  await pyro.resetWorkspace({ workspaceId: id, snapshot: "patched" });
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "src/app.txt" })).content).toBe("v2\n");
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "in/top.txt" })).content).toBe("pushed\n");
}
