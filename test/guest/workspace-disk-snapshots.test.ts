import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

/** Snapshot names in the workspace image's own table (qemu-img reads it under a shared lock). */
function imageSnapshotTags(home: string, id: string): string[] {
  const info = JSON.parse(
    execFileSync("qemu-img", [
      "info",
      "-U",
      "--output=json",
      join(sandboxDir(home, id), "workspace.qcow2"),
    ]).toString(),
  ) as { snapshots?: { name: string }[] };
  return (info.snapshots ?? []).map((entry) => entry.name);
}

const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await work();
  console.log(`[measure] ${label}: ${Date.now() - started} ms`);
  return result;
};

describe("/workspace on its own disk: snapshots, reset and offline reads in one real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let scratch: string;
  let id: string;
  const sh = async (script: string): Promise<string> => {
    const run = await pyro.execWorkspace({ workspaceId: id, command: ["sh", "-c", script] });
    if (run.exit_code !== 0) throw new Error(`${script}: ${run.stderr}`);
    return run.stdout;
  };

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-wsdisk-");
    mkdirSync(join(scratch, "seed", "src"), { recursive: true });
    writeFileSync(join(scratch, "seed", "README.md"), "hello\n");
    writeFileSync(join(scratch, "seed", "src", "app.txt"), "version=1\n");
    id = (
      await timed("create (seeded)", () =>
        pyro.createWorkspace({ seedPath: join(scratch, "seed"), memMib: 512 }),
      )
    ).workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("mounts the seeded disk on /workspace in the guest, and the baseline diff is empty", async () => {
    const kernel = await installedGuestKernel();
    const out = await sh(
      "uname -r; grep ' /workspace ' /proc/mounts; cat /workspace/src/app.txt; ls -A /workspace",
    );
    expect(out).toContain(kernel);
    expect(out).toMatch(/^\/dev\/vdb \/workspace ext4 /m);
    expect(out).toContain("version=1");
    expect(out).not.toContain("lost+found");
    expect((await pyro.diffWorkspace({ workspaceId: id })).summary.total).toBe(0);
    expect(imageSnapshotTags(home.home, id)).toEqual(["pyro.baseline"]);
  });

  it("takes live snapshots in place whatever the size of /workspace, and refuses a taken name", async () => {
    await sh("head -c 10485760 /dev/urandom > /workspace/ten.bin && sync");
    await timed("snapshot with 10 MB in /workspace", () =>
      pyro.createSnapshot({ workspaceId: id, snapshotName: "small" }),
    );
    await sh("head -c 104857600 /dev/urandom > /workspace/hundred.bin && sync");
    await timed("snapshot with 110 MB in /workspace", () =>
      pyro.createSnapshot({ workspaceId: id, snapshotName: "big" }),
    );
    // Nothing was archived on the host: both live in the image's snapshot table.
    expect(readdirSync(join(sandboxDir(home.home, id), "snapshots"))).toEqual([]);
    expect(imageSnapshotTags(home.home, id)).toEqual(["pyro.baseline", "pyro.small", "pyro.big"]);
    const listed = await pyro.listSnapshots({ workspaceId: id });
    expect(listed.snapshots.map((s) => [s.name, s.bytes])).toEqual([
      ["small", 0],
      ["big", 0],
    ]);
    await expect(pyro.createSnapshot({ workspaceId: id, snapshotName: "small" })).rejects.toMatchObject({
      code: "SNAPSHOT_EXISTS",
    });
  });

  it("thaws /workspace when the disk snapshot fails after the freeze", async () => {
    // The image already holds this tag: the VMM refuses the snapshot once the guest is frozen.
    await expect(supervisorControl(home.store(), id).snapshotDisk("pyro.small")).rejects.toThrow();
    // A write to a frozen file system would block; this one completes at once.
    const run = await pyro.execWorkspace({
      workspaceId: id,
      command: ["sh", "-c", "echo thawed > /workspace/after.txt && sync && cat /workspace/after.txt"],
      timeoutSeconds: 5,
    });
    expect(run.stdout.trim()).toBe("thawed");
    expect(imageSnapshotTags(home.home, id)).toEqual(["pyro.baseline", "pyro.small", "pyro.big"]);
  });

  it("resets to a named snapshot with exactly its files, and to the baseline with an empty diff", async () => {
    await timed("reset to a named snapshot", () =>
      pyro.resetWorkspace({ workspaceId: id, snapshot: "small" }),
    );
    expect((await sh("ls -A /workspace | sort")).split("\n").filter(Boolean)).toEqual([
      "README.md",
      "src",
      "ten.bin",
    ]);
    const diff = await pyro.diffWorkspace({ workspaceId: id });
    expect(diff.changes.map((change) => [change.path, change.status])).toEqual([["ten.bin", "added"]]);
    await timed("reset to the baseline", () => pyro.resetWorkspace({ workspaceId: id }));
    expect((await pyro.diffWorkspace({ workspaceId: id })).summary.total).toBe(0);
    // Snapshots survive a reset.
    expect((await pyro.listSnapshots({ workspaceId: id })).snapshots.map((s) => s.name)).toEqual([
      "small",
      "big",
    ]);
  });

  it("reads /workspace files of the stopped workspace from its disk, and snapshots it offline", async () => {
    await sh("mkdir -p /workspace/notes && echo written-before-stop > /workspace/notes/a.txt");
    await pyro.stopWorkspace({ workspaceId: id });
    const read = await pyro.readWorkspaceDisk({ workspaceId: id, path: "/workspace/notes/a.txt" });
    expect(read.content).toBe("written-before-stop\n");
    const listed = await pyro.listWorkspaceDisk({ workspaceId: id, path: "notes" });
    expect(listed.entries.map((entry) => entry.path)).toEqual(["/workspace/notes/a.txt"]);
    await pyro.createSnapshot({ workspaceId: id, snapshotName: "offline" });
    await pyro.deleteSnapshot({ workspaceId: id, snapshotName: "big" });
    expect(imageSnapshotTags(home.home, id)).toEqual(["pyro.baseline", "pyro.small", "pyro.offline"]);
    await pyro.startWorkspace({ workspaceId: id });
    expect((await sh("cat /workspace/notes/a.txt")).trim()).toBe("written-before-stop");
  });
});
