import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeCpio } from "../environments/index.js";
import { writeFileAtomic } from "../platform/atomic-file.js";

/**
 * The initrd QEMU boots: the environment's initramfs (kernel modules) followed by a second cpio
 * archive holding the agent as /init. The kernel unpacks concatenated archives in order, so the
 * agent can be rebuilt without rebuilding environments. Cached under `stateDir` (pyro's home) by
 * the digest of both parts.
 */
export function composeGuestInitrd(
  environmentInitramfs: string,
  agentBinary: string,
  stateDir: string,
): string {
  const base = readFileSync(environmentInitramfs);
  const agent = readFileSync(agentBinary);
  const digest = createHash("sha256").update(base).update(agent).digest("hex").slice(0, 24);
  const dir = join(stateDir, "initrd");
  const path = join(dir, `${digest}.cpio`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const agentArchive = writeCpio([{ path: "init", type: "file", mode: 0o755, data: agent }]);
  writeFileAtomic(path, Buffer.concat([base, agentArchive]), 0o644);
  return path;
}
