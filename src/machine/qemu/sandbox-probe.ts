import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { vmmUser } from "../../platform/vmm-user.js";
import { sandboxOption } from "./command-line.js";

export interface SandboxProbe {
  /** The -sandbox value pyro passes. */
  option: string;
  /** The user QEMU drops to (null: pyro is not root and QEMU runs as the caller). */
  runAs: string | null;
  /** What a QEMU started that way reported in /proc: its seccomp mode and real/effective uid. */
  seccomp: number | null;
  uid: number | null;
  error: string | null;
}

const PROBE_MS = 3_000;

/** Starts an empty QEMU (`-M none`) with pyro's hardening options and reads what is really in force. */
export async function probeQemuSandbox(binary: string): Promise<SandboxProbe> {
  const runAs = vmmUser()?.name ?? null;
  const option = sandboxOption(runAs);
  const base = { option, runAs, seccomp: null, uid: null };
  const args = ["-M", "none", "-nodefaults", "-display", "none", "-S", "-sandbox", option];
  if (runAs !== null) args.push("-runas", runAs);
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 1000) stderr += chunk.toString("utf8");
  });
  try {
    const deadline = Date.now() + PROBE_MS;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      const status = procStatus(child.pid);
      // QEMU is settled once its filter is on and, when asked, it has changed user.
      if (status !== null && status.seccomp === 2 && (runAs === null || status.uid !== 0))
        return { ...base, ...status, error: null };
      await sleep(20);
    }
    const ended = child.signalCode ?? child.exitCode;
    return {
      ...base,
      error: ended === null ? "QEMU did not settle" : `QEMU ended (${ended}): ${stderr.trim()}`,
    };
  } finally {
    child.kill("SIGKILL");
  }
}

function procStatus(pid: number | undefined): { seccomp: number; uid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const seccomp = /^Seccomp:\s+(\d+)/m.exec(text)?.[1];
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text)?.[1];
    return seccomp === undefined || uid === undefined ? null : { seccomp: Number(seccomp), uid: Number(uid) };
  } catch {
    return null;
  }
}
