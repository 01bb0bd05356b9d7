import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Writable } from "node:stream";

/**
 * A tiny shell that reads its stdin, a pipe whose write end only the supervisor holds. The kernel
 * closes that end however the supervisor dies (SIGKILL and crashes included), so `read` returns
 * and the shell records why in the exit note, then SIGKILLs the VM's processes. A parent-death
 * signal cannot do this for QEMU: `-runas` changes its credentials, which clears it.
 *
 * Each target is PID:STARTTIME (field 22 of /proc/PID/stat), so a pid reused by another process is
 * never killed. An orderly supervisor writes "release" first and the guard leaves without acting.
 */
const GUARD_SCRIPT = [
  "read -r word",
  '[ "$word" = release ] && exit 0',
  "note=$1",
  "shift",
  // The note first, so that once the VM is gone its status already says why.
  'if [ ! -e "$note" ]; then',
  "  at=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  `  printf '{"reason":"supervisor_died","at":"%s","detail":"%s","vmm_exit_code":null,"vmm_signal":"SIGKILL"}' "$at" "the supervisor died, so its VM was killed with it" > "$note.guard" && mv -f "$note.guard" "$note"`,
  "fi",
  'for target in "$@"; do',
  "  pid=${target%%:*}",
  '  read -r stat 2>/dev/null < "/proc/$pid/stat" || continue',
  "  set -- ${stat##*) }",
  '  [ "${20}" = "${target#*:}" ] && kill -9 "$pid" 2>/dev/null',
  "done",
].join("\n");

/** The guard's interpreter (doctor checks that it is there). */
export const GUARD_SHELL = "/bin/sh";

export interface DeathGuard {
  /** The supervisor is ending the VM itself: the guard leaves without killing anything. */
  release(): void;
}

/** Starts a guard that kills `processes` as soon as this process dies, and writes `exitNote`. */
export function startDeathGuard(processes: ChildProcess[], exitNote: string): DeathGuard {
  const targets = processes.flatMap((child) => {
    const start = child.pid === undefined ? null : startTime(child.pid);
    return start === null ? [] : [`${child.pid}:${start}`];
  });
  const guard = spawn(GUARD_SHELL, ["-c", GUARD_SCRIPT, "pyro-guard", exitNote, ...targets], {
    stdio: ["pipe", "ignore", "ignore"],
    // Its own process group: a signal to the supervisor's group must not take the guard first.
    detached: true,
  });
  guard.unref();
  const pipe = guard.stdin as Writable;
  pipe.on("error", () => undefined);
  return {
    release() {
      if (!pipe.destroyed) pipe.end("release\n");
    },
  };
}

/** The process's start time in clock ticks since boot, which with the pid names it uniquely. */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
