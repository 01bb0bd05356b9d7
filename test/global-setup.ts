import { processesMentioning } from "./helpers/processes.js";

/**
 * Test homes live under /tmp/pyro-t-*. After the run, no VMM, agent or supervisor of theirs may
 * be alive: a leftover is killed and fails the run, so leaks cannot pass unnoticed.
 */
export default function setup(): () => void {
  return () => {
    const leftovers = processesMentioning("/tmp/pyro-t-").concat(processesMentioning("pyro-t-"));
    const unique = [...new Set(leftovers)].filter((pid) => pid !== process.pid);
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
