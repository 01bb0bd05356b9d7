/**
 * Baselines several sections compare against, measured once per run and shared: the memory
 * template of the default shape (debian:12, 1 vCPU, 1 GiB) and workspace create → first exec,
 * restored from it and booted cold.
 */
import { performance } from "node:perf_hooks";
import { Pyro } from "../dist/index.js";
import { median } from "./stats.js";

const memo = new Map();

function once(key, make) {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key);
}

/** Clients on one home: `warm` restores from templates, `cold` boots every VM. */
export function clients(home) {
  return once(`clients:${home}`, () => ({
    warm: new Pyro({ home }),
    cold: new Pyro({ home, templates: false }),
  }));
}

/** Makes (or finds) the template of the default shape; its time is the first make when it was absent. */
export function warmTemplate(home) {
  return once(`warm:${home}`, async () => {
    const started = performance.now();
    const template = await clients(home).warm.warmEnvironment({ environment: "debian:12" });
    return { template, ms: performance.now() - started };
  });
}

/** Workspace create → first exec `true` returns (delete after, not timed); the start facts of each. */
async function createToExec(pyro, runs) {
  const samples = [];
  const starts = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const ws = await pyro.createWorkspace({});
    try {
      await pyro.execWorkspace({ workspaceId: ws.workspace_id, command: ["true"] });
      samples.push(performance.now() - started);
      starts.push({ mode: ws.start_mode, timings: ws.start_timings });
    } finally {
      await deleteQuietly(pyro, ws.workspace_id);
    }
  }
  return { samples, starts };
}

/** Create → first exec from the template (median), measured once per run. */
export function templateCreate(home, quick) {
  return once(`template:${home}`, async () => {
    await warmTemplate(home);
    return summarize(await createToExec(clients(home).warm, quick ? 1 : 3));
  });
}

/** Create → first exec with a cold boot (median), measured once per run: each costs seconds, so two. */
export function coldCreate(home, quick) {
  return once(`cold:${home}`, async () => summarize(await createToExec(clients(home).cold, quick ? 1 : 2)));
}

function summarize({ samples, starts }) {
  const totals = starts.map((start) => start.timings?.total_ms).filter((ms) => typeof ms === "number");
  return {
    ms: median(samples),
    modes: [...new Set(starts.map((start) => start.mode))].join(","),
    startMs: totals.length > 0 ? median(totals) : null,
  };
}

export async function deleteQuietly(pyro, workspaceId) {
  try {
    await pyro.deleteWorkspace({ workspaceId });
  } catch (error) {
    console.error(`bench: could not delete workspace ${workspaceId}: ${error.message}`);
  }
}
