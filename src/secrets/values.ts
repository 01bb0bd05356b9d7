import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SecretValues } from "./masker.js";

/** Secret names become file and variable names: a conservative identifier, never a path. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const MAX_SECRET_BYTES = 64 * 1024;

/** name → value of every secret in a store folder (one owner-only file per secret). */
export function readSecretValues(dir: string): SecretValues {
  const values = new Map<string, Buffer>();
  if (!existsSync(dir)) return values;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = SECRET_NAME.test(name) ? statSync(path) : null;
    if (stat?.isFile() && stat.size <= MAX_SECRET_BYTES) values.set(name, readFileSync(path));
  }
  return values;
}
