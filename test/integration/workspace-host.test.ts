import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

describe("workspaces through the SDK (host-compat backend): bad input and hostile content", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-ws-");
    const seed = join(scratch, "seed");
    mkdirSync(join(seed, "src"), { recursive: true });
    writeFileSync(join(seed, "README.md"), "hello\n");
    writeFileSync(join(seed, "src", "app.txt"), "v1\n");
    id = (await pyro.createWorkspace({ ...HOST, seedPath: seed, name: "host-ws", labels: { team: "core" } }))
      .workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("refuses paths that leave /workspace, lexically and through guest symlinks", async () => {
    for (const path of ["../../etc/passwd", "/etc/passwd", "/workspace/../etc/passwd"]) {
      await expect(pyro.readWorkspaceFile({ workspaceId: id, path })).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
      await expect(pyro.writeWorkspaceFile({ workspaceId: id, path, text: "x" })).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
      await expect(pyro.listWorkspaceFiles({ workspaceId: id, path })).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
      await expect(
        pyro.exportWorkspace({ workspaceId: id, path, outputPath: join(scratch, "never") }),
      ).rejects.toMatchObject({ code: "PATH_OUTSIDE_WORKSPACE" });
      await expect(
        pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: scratch, dest: path }),
      ).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
    }
    await pyro.execWorkspace({ workspaceId: id, command: "ln -s /etc escape && ln -s .. up" });
    for (const path of ["escape/passwd", "up/x"]) {
      await expect(pyro.readWorkspaceFile({ workspaceId: id, path })).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
      await expect(pyro.writeWorkspaceFile({ workspaceId: id, path, text: "x" })).rejects.toMatchObject({
        code: "PATH_OUTSIDE_WORKSPACE",
      });
    }
    expect(existsSync(join(scratch, "never"))).toBe(false);
    await pyro.execWorkspace({ workspaceId: id, command: "rm escape up" });
  });

  it("rejects unsafe seed and sync archives before writing anything", async () => {
    const evil = join(scratch, "evil");
    mkdirSync(evil, { recursive: true });
    writeFileSync(join(evil, "ok.txt"), "fine\n");
    const absolute = join(scratch, "absolute.tar");
    execFileSync("tar", ["-cf", absolute, "-P", join(evil, "ok.txt")]);
    const dotdot = join(scratch, "dotdot.tar.gz");
    execFileSync("tar", ["-czPf", dotdot, "-C", evil, "ok.txt", "../evil/ok.txt"]);
    const linkDir = join(scratch, "linkdir");
    mkdirSync(linkDir, { recursive: true });
    writeFileSync(join(linkDir, "a.txt"), "a\n");
    symlinkSync("/etc/passwd", join(linkDir, "passwd"));
    const links = join(scratch, "links.tgz");
    execFileSync("tar", ["-czf", links, "-C", linkDir, "a.txt", "passwd"]);
    const before = await pyro.listWorkspaceFiles({ workspaceId: id, recursive: true });
    for (const source of [absolute, dotdot, links, linkDir]) {
      await expect(pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: source })).rejects.toMatchObject({
        code: "ARCHIVE_UNSAFE",
      });
      await expect(pyro.createWorkspace({ ...HOST, seedPath: source })).rejects.toMatchObject({
        code: "ARCHIVE_UNSAFE",
      });
    }
    const after = await pyro.listWorkspaceFiles({ workspaceId: id, recursive: true });
    expect(after.entries.map((e) => e.path)).toEqual(before.entries.map((e) => e.path));
    expect((await pyro.listWorkspaces()).count).toBe(1);
  });

  it("refuses to overwrite an existing export target unless asked", async () => {
    const target = join(scratch, "exported.txt");
    writeFileSync(target, "keep me\n");
    await expect(
      pyro.exportWorkspace({ workspaceId: id, path: "README.md", outputPath: target }),
    ).rejects.toMatchObject({
      code: "OUTPUT_EXISTS",
    });
    expect(readFileSync(target, "utf8")).toBe("keep me\n");
    const done = await pyro.exportWorkspace({
      workspaceId: id,
      path: "README.md",
      outputPath: target,
      overwrite: true,
    });
    expect(done.artifact_type).toBe("file");
    expect(readFileSync(target, "utf8")).toBe("hello\n");
  });

  it("never writes outside the export path, whatever links the guest holds", async () => {
    await pyro.execWorkspace({
      workspaceId: id,
      command:
        "mkdir -p trap && ln -s /etc trap/etc && ln -s ../../.. trap/up && printf x > 'trap/odd name\nwith newline'",
    });
    const out = join(scratch, "trap-out");
    const result = await pyro.exportWorkspace({ workspaceId: id, path: "trap", outputPath: out });
    expect(result.artifact_type).toBe("directory");
    expect(existsSync(join(out, "odd name\nwith newline"))).toBe(true);
    expect(existsSync(join(out, "etc"))).toBe(false);
    expect(result.skipped.map((entry) => entry.path).sort()).toEqual(["trap/etc", "trap/up"].sort());
    await pyro.execWorkspace({ workspaceId: id, command: "rm -rf trap" });
  });

  it("reports unknown workspaces, unknown snapshots and non-plain snapshot names", async () => {
    await expect(pyro.statusWorkspace({ workspaceId: "0123456789ab" })).rejects.toMatchObject({
      code: "WORKSPACE_NOT_FOUND",
    });
    await expect(pyro.execWorkspace({ workspaceId: "../x", command: "true" })).rejects.toMatchObject({
      code: "WORKSPACE_NOT_FOUND",
    });
    await expect(pyro.resetWorkspace({ workspaceId: id, snapshot: "nope" })).rejects.toMatchObject({
      code: "SNAPSHOT_NOT_FOUND",
    });
    for (const name of ["../x", "a/b", ".hidden", "", "x".repeat(65)]) {
      await expect(pyro.createSnapshot({ workspaceId: id, snapshotName: name })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
  });

  it("keeps a patch all-or-nothing and names the failing file and hunk", async () => {
    const patch = [
      "--- a/src/app.txt",
      "+++ b/src/app.txt",
      "@@ -1 +1 @@",
      "-v1",
      "+v2",
      "--- a/README.md",
      "+++ b/README.md",
      "@@ -1 +1 @@",
      "-not what is there",
      "+changed",
      "",
    ].join("\n");
    await expect(pyro.applyWorkspacePatch({ workspaceId: id, patch })).rejects.toMatchObject({
      code: "PATCH_FAILED",
      message: expect.stringMatching(/README\.md.*hunk 1|hunk 1.*README\.md/),
    });
    const app = await pyro.readWorkspaceFile({ workspaceId: id, path: "src/app.txt" });
    expect(app.content).toBe("v1\n");
  });

  it("gives concurrent execs from two processes distinct sequence numbers", async () => {
    const { runPyro } = await import("../helpers/cli.js");
    const [a, b] = await Promise.all([
      runPyro(["workspace", "exec", id, "--json", "--", "echo a"]),
      runPyro(["workspace", "exec", id, "--json", "--", "echo b"]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const sequences = [a, b].map((r) => (JSON.parse(r.stdout) as { sequence: number }).sequence);
    expect(new Set(sequences).size).toBe(2);
    const logs = await pyro.logsWorkspace({ workspaceId: id });
    for (const sequence of sequences) expect(logs.commands.map((c) => c.sequence)).toContain(sequence);
  });

  it("syncs a 100 MB file in and exports it out without holding it in memory", async () => {
    const big = join(scratch, "big.bin");
    execFileSync("sh", ["-c", `head -c 100000000 /dev/urandom > '${big}'`]);
    const rssBefore = process.memoryUsage().rss;
    const pushed = await pyro.pushWorkspaceSync({
      workspaceId: id,
      sourcePath: big,
      dest: "/workspace/data",
    });
    expect(pushed).toMatchObject({ mode: "file", entry_count: 1, bytes_written: 100_000_000 });
    const out = join(scratch, "big-out.bin");
    await pyro.exportWorkspace({ workspaceId: id, path: "data/big.bin", outputPath: out });
    expect(statSync(out).size).toBe(100_000_000);
    expect(await sha256(out)).toBe(await sha256(big));
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024);
    await pyro.execWorkspace({ workspaceId: id, command: "rm -rf data" });
  }, 120_000);

  it("reports a sandbox that died at once, with the fix, and reset brings it back", async () => {
    const victim = await pyro.createWorkspace({ ...HOST });
    const agent = processesMentioning(victim.workspace_id).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--host"),
    );
    expect(agent).toBeDefined();
    process.kill(agent as number, "SIGKILL");
    await waitFor(() => processesMentioning(victim.workspace_id).length === 0, 5_000);
    const started = Date.now();
    const failure = await pyro
      .execWorkspace({ workspaceId: victim.workspace_id, command: "true" })
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "WORKSPACE_NOT_RUNNING", hint: expect.stringContaining("reset") });
    expect(Date.now() - started).toBeLessThan(2_000);
    const reset = await pyro.resetWorkspace({ workspaceId: victim.workspace_id });
    expect(reset).toMatchObject({ state: "running", reset_count: 1 });
    expect(
      (await pyro.execWorkspace({ workspaceId: victim.workspace_id, command: "echo back" })).stdout,
    ).toBe("back\n");
    await pyro.deleteWorkspace({ workspaceId: victim.workspace_id });
  });

  it("honours the TTL: an idle sandbox stops, and reaping keeps the workspace", async () => {
    const short = await pyro.createWorkspace({ ...HOST, ttlSeconds: 2 });
    expect(await waitFor(() => processesMentioning(short.workspace_id).length === 0, 10_000)).toBe(true);
    expect((await pyro.statusWorkspace({ workspaceId: short.workspace_id })).state).toBe("expired");
    const reaped = await pyro.reapExpired();
    expect(reaped.reaped.map((r) => r.vm_id)).not.toContain(short.workspace_id);
    expect((await pyro.statusWorkspace({ workspaceId: short.workspace_id })).state).toBe("expired");
    await pyro.deleteWorkspace({ workspaceId: short.workspace_id });
  });

  it("deletes everything, leaving no process behind", async () => {
    const extra = await pyro.createWorkspace({ ...HOST });
    await pyro.deleteWorkspace({ workspaceId: extra.workspace_id });
    expect(existsSync(sandboxDir(home.home, extra.workspace_id))).toBe(false);
    expect(processesMentioning(extra.workspace_id)).toEqual([]);
  });
});
