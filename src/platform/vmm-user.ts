import { readFileSync } from "node:fs";

/** A user made for pyro's VMMs (`useradd --system pyro-vmm`) is preferred over the shared `nobody`. */
export const DEDICATED_VMM_USER = "pyro-vmm";
const FALLBACK_VMM_USER = "nobody";

export interface VmmUser {
  name: string;
  uid: number;
}

/**
 * The unprivileged user QEMU drops to when pyro runs as root (null when pyro is not root: QEMU
 * then already runs without privileges, as the caller).
 */
export function vmmUser(euid = process.geteuid?.() ?? -1, passwd = readPasswd()): VmmUser | null {
  if (euid !== 0) return null;
  for (const name of [DEDICATED_VMM_USER, FALLBACK_VMM_USER]) {
    const uid = uidOf(name, passwd);
    if (uid !== null && uid !== 0) return { name, uid };
  }
  return null;
}

function uidOf(name: string, passwd: string): number | null {
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return null;
}

function readPasswd(): string {
  try {
    return readFileSync("/etc/passwd", "utf8");
  } catch {
    return "";
  }
}
