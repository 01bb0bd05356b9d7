import { readFileSync, statSync } from "node:fs";
import { release } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { checkJson } from "../platform/json-check.js";
import { packageVersion } from "../platform/package-info.js";
import type { DoctorProbeCache } from "./probe-cache-schema.js";
import { DOCTOR_PROBE_CACHE_JSON_SCHEMA } from "./probe-cache.json-schema.js";

/**
 * doctor's host measurements (running the VMM, booting a guest to probe KVM, pyro-netstack's
 * hardening report) take about a second; their answer changes only when the host does. They are
 * cached under the store's home against what they were measured with: the kernel, pyro's version
 * and build, every PYRO_* variable and PATH, the KVM device and the caller's groups, the installed
 * environment, and the identity (size, mtime, inode) of each binary and of each PATH folder (a
 * tool installed or removed changes its folder). Any difference, or a day's age, measures again.
 */

const CACHE_FILE = "doctor-probe.json";
const MEASURING_CODE = fileURLToPath(new URL("./host-probe.js", import.meta.url));
const MAX_AGE_MS = 24 * 60 * 60_000;

function identity(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}:${stat.ino}:${stat.mode}:${stat.uid}:${stat.gid}:${stat.rdev}`;
  } catch {
    return "missing";
  }
}

/** What the measurements depend on besides the files they name; `files` are the paths they used. */
export function probeInputs(
  environment: string | null,
  files: ReadonlyArray<string | null>,
): Record<string, string> {
  const inputs: Record<string, string> = {
    kernel: release(),
    pyro: packageVersion(),
    environment: environment ?? "none",
    uid: String(process.getuid?.() ?? -1),
    groups: (process.getgroups?.() ?? []).join(","),
    "file:/dev/kvm": identity("/dev/kvm"),
    // The measuring code itself: every build rewrites it, so a changed probe never reads an old answer.
    [`file:${MEASURING_CODE}`]: identity(MEASURING_CODE),
  };
  for (const [name, value] of Object.entries(process.env)) {
    if ((name.startsWith("PYRO_") || name === "PATH") && value !== undefined) inputs[`env:${name}`] = value;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean))
    inputs[`file:${dir}`] = identity(dir);
  for (const file of files) if (file !== null) inputs[`file:${file}`] = identity(file);
  return inputs;
}

/** The cached measurements when they still hold for `inputs` (the files they used are re-checked too). */
export function readProbeCache(
  home: string,
  inputs: Record<string, string>,
  now = Date.now(),
): DoctorProbeCache | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(home, CACHE_FILE), "utf8"));
  } catch {
    return null;
  }
  const parsed = checkJson(DOCTOR_PROBE_CACHE_JSON_SCHEMA, raw);
  if (!parsed.ok) return null;
  const cache = parsed.value;
  const age = now - Date.parse(cache.measured_at);
  if (!(age >= 0 && age < MAX_AGE_MS)) return null;
  // Files the measurements named (the tools they found) must be unchanged too.
  const recorded = Object.entries(cache.inputs);
  const current = { ...inputs };
  for (const [key] of recorded)
    if (key.startsWith("file:") && !(key in current)) current[key] = identity(key.slice(5));
  const same =
    recorded.length === Object.keys(current).length &&
    recorded.every(([key, value]) => current[key] === value);
  return same ? cache : null;
}

export function writeProbeCache(home: string, cache: DoctorProbeCache): void {
  writeJsonAtomic(join(home, CACHE_FILE), cache);
}
