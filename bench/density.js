/**
 * Host memory of idle 1 GiB workspaces restored from a template: Pss and Rss summed over every
 * process belonging to each (QEMU, its supervisor, pyro-netstack if any), for one and for ten.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clients, deleteQuietly, warmTemplate } from "./baselines.js";
import { median, report } from "./stats.js";

const TEN = 10;

/** pid → parent pid of every process now. */
function parents() {
  const map = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name in field 2 may hold spaces and parentheses: the fields after it follow the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return map;
}

function readText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * Every process of one sandbox: its supervisor and VMM (from the record), all their descendants,
 * and any process whose command line names the sandbox's folder (one that was re-parented).
 */
function sandboxProcesses(home, id, tree) {
  const record = JSON.parse(readFileSync(join(home, "sandboxes", id, "sandbox.json"), "utf8"));
  const roots = [record.supervisor_pid, record.vmm_pid].filter((pid) => Number.isInteger(pid));
  if (roots.length < 2)
    throw new Error(`workspace ${id} has no supervisor or VMM pid (state ${record.state})`);
  const pids = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of tree)
      if (pids.has(parent) && !pids.has(pid)) {
        pids.add(pid);
        grew = true;
      }
  }
  const folder = join(home, "sandboxes", id);
  for (const pid of tree.keys())
    if (
      readText(`/proc/${pid}/cmdline`)
        ?.split("\0")
        .some((arg) => arg.includes(folder))
    )
      pids.add(pid);
  return { pids: [...pids], supervisor: record.supervisor_pid, vmm: record.vmm_pid };
}

/** Pss and Rss (MiB) of one process from smaps_rollup, and its command name. */
function memory(pid) {
  const rollup = readText(`/proc/${pid}/smaps_rollup`);
  if (rollup === null) throw new Error(`process ${pid} ended or its smaps_rollup is unreadable`);
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? NaN);
  return {
    comm: readText(`/proc/${pid}/comm`)?.trim() ?? "?",
    pss: kib("Pss") / 1024,
    rss: kib("Rss") / 1024,
  };
}

/** Memory of each workspace, summed over its processes, with a per-command breakdown. */
function measure(home, ids) {
  const tree = parents();
  return ids.map((id) => {
    const byComm = new Map();
    let pss = 0;
    let rss = 0;
    const { pids, supervisor, vmm } = sandboxProcesses(home, id, tree);
    for (const pid of pids) {
      const m = memory(pid);
      pss += m.pss;
      rss += m.rss;
      const kind = pid === vmm ? "qemu" : pid === supervisor ? "supervisor" : m.comm;
      byComm.set(kind, (byComm.get(kind) ?? 0) + m.pss);
    }
    return { pss, rss, byComm };
  });
}

// Targets are in MB; both units shown.
const mib = (value) => `${value.toFixed(0)} MiB (${((value * 1024 * 1024) / 1e6).toFixed(0)} MB)`;
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchDensity({ quick, home }) {
  const { warm: pyro } = clients(home);
  await warmTemplate(home);
  const idleMs = quick ? 3000 : 5000;
  const ids = [];
  const modes = new Set();
  try {
    const create = async () => {
      const ws = await pyro.createWorkspace({ ttlSeconds: 3600 });
      ids.push(ws.workspace_id);
      modes.add(ws.start_mode);
      await pyro.execWorkspace({ workspaceId: ws.workspace_id, command: ["true"] });
    };
    await create();
    await settle(idleMs);
    const [one] = measure(home, ids);
    const parts = [...one.byComm].map(([comm, pss]) => `${comm} ${pss.toFixed(0)}`).join(", ");
    while (ids.length < TEN) await create();
    await settle(idleMs);
    const all = measure(home, ids);
    const tenPss = all.reduce((sum, m) => sum + m.pss, 0);
    const tenRss = all.reduce((sum, m) => sum + m.rss, 0);
    report(
      `Host memory of idle 1 GiB workspaces (start_mode ${[...modes].join(",")}; every process of each)`,
      [
        ["one workspace, Pss (target <= 150 MB)", mib(one.pss)],
        ["  Pss by process (MiB)", parts],
        ["one workspace, Rss", mib(one.rss)],
        ["ten workspaces at once, Pss summed", mib(tenPss)],
        ["ten workspaces at once, Rss summed", mib(tenRss)],
        ["ten, Pss per workspace (median of the ten)", mib(median(all.map((m) => m.pss)))],
        ["ratio ten / one, Pss (target <= 10x)", `${(tenPss / one.pss).toFixed(2)}x`],
        ["ratio ten / one, Rss", `${(tenRss / one.rss).toFixed(2)}x`],
      ],
    );
  } finally {
    for (const id of ids) await deleteQuietly(pyro, id);
  }
}
