import { readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { processesMentioning } from "./helpers/processes.js";

// Several checkouts may run tests on one machine at once: only this checkout's leftovers count.
// A worktree's node_modules may link to another checkout's, so test workers run from a path
// into node_modules/ that names the other checkout: a worker is known by its working directory.
const CHECKOUT = fileURLToPath(new URL("..", import.meta.url));
const OWN_PATH = new RegExp(`${CHECKOUT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?!node_modules/)`);

/** True when the process or one of its ancestors was started from this checkout. */
function startedHere(pid: number): boolean {
  for (let current = pid, depth = 0; current > 1 && depth < 8; depth++) {
    try {
      if (OWN_PATH.test(readFileSync(`/proc/${current}/cmdline`, "utf8"))) return true;
      if (`${readlinkSync(`/proc/${current}/cwd`)}/` === CHECKOUT) return true;
      const stat = readFileSync(`/proc/${current}/stat`, "utf8");
      current = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Test homes live under /tmp/pyro-t-*. After the run, no VMM, agent or supervisor of theirs may
 * be alive: a leftover is killed and fails the run, so leaks cannot pass unnoticed.
 */
export default function setup(): () => void {
  return () => {
    const leftovers = processesMentioning("/tmp/pyro-t-").concat(processesMentioning("pyro-t-"));
    const unique = [...new Set(leftovers)].filter((pid) => pid !== process.pid && startedHere(pid));
    for (const pid of unique) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (unique.length > 0) throw new Error(`processes left behind by the tests: ${unique.join(", ")}`);
  };
}
