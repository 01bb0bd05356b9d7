import { readFileSync } from "node:fs";

/** True when a process with this pid exists (it may belong to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when pid is alive and its command line mentions `marker` — guards against pid reuse
 * before pyro signals a process it recorded earlier.
 */
export function isOwnProcess(pid: number | null | undefined, marker: string): boolean {
  if (pid === null || pid === undefined || !isProcessAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(marker) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}
