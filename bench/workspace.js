/** Workspace figures: create vs root image size, exec per surface, sync, diff, snapshot and reset. */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { environmentPaths, ensureEnvironment, resolveInstalled } from "../dist/environments/index.js";
import { sha256File } from "../dist/platform/file-digest.js";
import { Pyro } from "../dist/index.js";
import { CLI, formatMs, median, report, timeRuns } from "./stats.js";

const pyro = new Pyro();
// Each resized root image is an environment of its own: from a template, its first create would make one.
const coldPyro = new Pyro({ templates: false });
const small = { memMib: 512 };

/** A copy of the installed debian:12 whose root image is resized to `gib` GiB (sparse). */
async function cacheWithRootImage(source, gib, cacheDir) {
  const previous = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
  const entry = environmentPaths("debian:12").entryDir;
  mkdirSync(entry, { recursive: true });
  copyFileSync(source.kernelPath, join(entry, "vmlinux"));
  copyFileSync(source.initramfsPath, join(entry, "initramfs.cpio"));
  const rootfs = join(entry, "rootfs.ext4");
  execFileSync("cp", ["--sparse=always", source.rootfsPath, rootfs]);
  execFileSync("e2fsck", ["-fy", rootfs], { stdio: "ignore" });
  execFileSync("resize2fs", [rootfs, `${gib}G`], { stdio: "ignore" });
  const files = {};
  for (const [role, name] of [
    ["kernel", "vmlinux"],
    ["initramfs", "initramfs.cpio"],
    ["rootfs", "rootfs.ext4"],
  ]) {
    const path = join(entry, name);
    const size = Number(execFileSync("stat", ["-c", "%s", path]).toString().trim());
    files[role] = { path: name, sha256: await sha256File(path), size };
  }
  writeFileSync(join(entry, "manifest.json"), JSON.stringify({ ...source.manifest, files }, null, 2));
  await resolveInstalled("debian:12"); // the first resolve digests everything; keep that out of the timing
  if (previous === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  else process.env.PYRO_ENVIRONMENT_CACHE_DIR = previous;
}

async function timeCreateWith(cacheDir, runs) {
  const previous = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
  try {
    return median(
      await timeRuns(runs, async () => {
        const ws = await coldPyro.createWorkspace(small);
        await coldPyro.deleteWorkspace({ workspaceId: ws.workspace_id });
      }),
    );
  } finally {
    if (previous === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = previous;
  }
}

export function makeTree(root, files) {
  for (let i = 0; i < files; i += 1) {
    const dir = join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n${"x".repeat(64)}\n`);
  }
}

async function mcpClient() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined));
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", "serve"], env }),
  );
  return client;
}

export async function benchWorkspace({ quick, home }) {
  const source = await ensureEnvironment("debian:12");
  const runs = quick ? 1 : 3;

  const oneGiB = join(home, "cache-1g");
  const eightGiB = join(home, "cache-8g");
  await cacheWithRootImage(source, 1, oneGiB);
  await cacheWithRootImage(source, 8, eightGiB);
  const create1 = await timeCreateWith(oneGiB, runs);
  const create8 = await timeCreateWith(eightGiB, runs);
  rmSync(oneGiB, { recursive: true, force: true });
  rmSync(eightGiB, { recursive: true, force: true });
  report("Workspace create (copy-on-write root, cold boot)", [
    ["create, 1 GiB root image (median)", formatMs(create1)],
    ["create, 8 GiB root image (median)", formatMs(create8)],
    ["ratio 8 GiB / 1 GiB", `${(create8 / create1).toFixed(2)}x`],
  ]);

  const tree = join(home, "tree");
  makeTree(tree, 10_000);
  const ws = await pyro.createWorkspace({ ...small, seedPath: tree });
  const id = ws.workspace_id;
  try {
    const rounds = quick ? 5 : 10;
    const cli = median(
      await timeRuns(quick ? 3 : 5, () => {
        const result = spawnSync(process.execPath, [CLI, "workspace", "exec", id, "--", "true"], {
          stdio: "ignore",
        });
        if (result.status !== 0) throw new Error("workspace exec failed");
      }),
    );
    const sdk = median(
      await timeRuns(rounds, () => pyro.execWorkspace({ workspaceId: id, command: ["true"] })),
    );
    const client = await mcpClient();
    const mcp = median(
      await timeRuns(rounds, () =>
        client.callTool({ name: "workspace_exec", arguments: { workspace_id: id, command: ["true"] } }),
      ),
    );
    await client.close();
    report("Workspace exec round trip (`true`)", [
      ["SDK (median)", formatMs(sdk)],
      ["MCP, stdio server already running (median)", formatMs(mcp)],
      ["CLI, a new process per call (median)", formatMs(cli)],
      ["ratio MCP / SDK", `${(mcp / sdk).toFixed(2)}x`],
      ["ratio CLI / SDK", `${(cli / sdk).toFixed(2)}x`],
    ]);

    const copyDir = join(home, "tree-copy");
    const local = median(
      await timeRuns(runs, () => {
        rmSync(copyDir, { recursive: true, force: true });
        mkdirSync(copyDir);
        execFileSync("sh", ["-c", `tar -C '${tree}' -cf - . | tar -C '${copyDir}' -xf -`]);
      }),
    );
    const sync = median(
      await timeRuns(runs, (i) =>
        pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: tree, dest: `/workspace/sync${i}` }),
      ),
    );
    await pyro.execWorkspace({ workspaceId: id, command: "rm -rf sync*", timeoutSeconds: 120 });
    report("Sync push of a 10k-file tree", [
      ["pyro workspace sync push (median)", formatMs(sync)],
      ["tar c | tar x on the host (median)", formatMs(local)],
      ["ratio sync / local tar", `${(sync / local).toFixed(1)}x`],
    ]);

    const change = "for i in $(seq 0 100 9900); do echo changed >> d$((i / 100))/f$i.txt; done";
    await pyro.execWorkspace({ workspaceId: id, command: change, timeoutSeconds: 120 });
    execFileSync("sh", ["-c", `cd '${copyDir}' && ${change}`]);
    const diff = median(await timeRuns(runs, () => pyro.diffWorkspace({ workspaceId: id })));
    const summary = (await pyro.diffWorkspace({ workspaceId: id })).summary;
    const git = median(
      await timeRuns(runs, () => {
        spawnSync("git", ["diff", "--no-index", "--no-color", tree, copyDir], { stdio: "ignore" });
      }),
    );
    report("Diff of a 10k-file workspace with 100 changed files", [
      [`pyro workspace diff (median; ${summary.modified} modified)`, formatMs(diff)],
      ["git diff --no-index of the same trees (median)", formatMs(git)],
      ["ratio pyro / git", `${(diff / git).toFixed(1)}x`],
    ]);
    rmSync(copyDir, { recursive: true, force: true });

    const big = join(home, "big.bin");
    execFileSync("sh", ["-c", `head -c 100000000 /dev/urandom > '${big}'`]);
    await pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: big });
    const localTar = median(
      await timeRuns(runs, () =>
        execFileSync("tar", ["-cf", join(home, "local.tar"), "-C", home, "big.bin", "tree"]),
      ),
    );
    const snapshot = median(
      await timeRuns(runs, (i) => pyro.createSnapshot({ workspaceId: id, snapshotName: `s${i}` })),
    );
    const reset = median(
      await timeRuns(runs, () => pyro.resetWorkspace({ workspaceId: id, snapshot: "s0" })),
    );
    report("Snapshot and reset of a ~100 MB workspace", [
      ["snapshot create (median)", formatMs(snapshot)],
      ["tar of the same data on the host (median)", formatMs(localTar)],
      ["ratio snapshot / host tar", `${(snapshot / localTar).toFixed(1)}x`],
      ["reset to that snapshot: new VM + restore (median)", formatMs(reset)],
      ["ratio reset / cold create (1 GiB image)", `${(reset / create1).toFixed(2)}x`],
    ]);
  } finally {
    await pyro.deleteWorkspace({ workspaceId: id });
    rmSync(tree, { recursive: true, force: true });
  }
}
