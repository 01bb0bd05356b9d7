import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { PyroError } from "../../errors/index.js";
import { writeFileAtomic } from "../../platform/atomic-file.js";
import type { GuestRunner } from "./guest-runner.js";
import { loadVm, machineDir } from "../vm/manager.js";
import type { SandboxStore } from "../store.js";
import { vmFiles } from "../vm/record.js";
import { isWorkspaceId, workspaceFiles } from "./record.js";
import type { SecretValues } from "../../secrets/masker.js";
import { MAX_SECRET_BYTES, SECRET_NAME, readSecretValues } from "../../secrets/values.js";

export const GUEST_SECRETS_DIR = "/run/pyro-secrets";

export function validateSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw new PyroError("INVALID_ARGUMENT", `invalid secret name ${JSON.stringify(name)}`, {
      hint: "Use letters, digits and _ (not starting with a digit, at most 64): no '/', '.' or '..'.",
    });
  }
  return name;
}

/** Secrets given at create time: NAME=VALUE pairs and NAME=PATH files read on the host. */
export function collectSecrets(
  values: Record<string, string>,
  files: Record<string, string>,
): Map<string, Buffer> {
  const secrets = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(values))
    secrets.set(validateSecretName(name), Buffer.from(value));
  for (const [name, path] of Object.entries(files)) {
    validateSecretName(name);
    let content: Buffer;
    try {
      if (!statSync(path).isFile()) throw new Error("not a regular file");
      content = readFileSync(path);
    } catch (error) {
      // The message names the file, never its content.
      throw new PyroError(
        "INVALID_ARGUMENT",
        `cannot read the secret file for ${name}: ${path} (${(error as Error).message})`,
        {
          hint: "Give a readable regular file: --secret-file NAME=PATH.",
        },
      );
    }
    secrets.set(name, content);
  }
  for (const [name, value] of secrets) {
    if (value.length === 0 || value.length > MAX_SECRET_BYTES) {
      throw new PyroError("INVALID_ARGUMENT", `secret ${name} must be 1 to ${MAX_SECRET_BYTES} bytes`);
    }
  }
  return secrets;
}

/** Where a workspace's host copies live; its supervisor reads them to mask shell and service output. */
export const secretsDir = (store: SandboxStore, id: string): string => workspaceFiles(store, id).secrets;

/** Host copies, owner-only (folder 0700, files 0600). */
export function storeSecrets(store: SandboxStore, id: string, secrets: Map<string, Buffer>): void {
  if (secrets.size === 0) return;
  mkdirSync(secretsDir(store, id), { recursive: true, mode: 0o700 });
  chmodSync(secretsDir(store, id), 0o700);
  for (const [name, value] of secrets) writeFileAtomic(join(secretsDir(store, id), name), value, 0o600);
}

export function secretNames(store: SandboxStore, id: string): string[] {
  return existsSync(secretsDir(store, id))
    ? readdirSync(secretsDir(store, id))
        .filter((name) => SECRET_NAME.test(name))
        .sort()
    : [];
}

function secretValue(store: SandboxStore, id: string, name: string): Buffer {
  const path = join(secretsDir(store, id), validateSecretName(name));
  if (!existsSync(path)) throw new PyroError("SECRET_NOT_FOUND", `workspace ${id} has no secret ${name}`);
  return readFileSync(path);
}

/** `--secret-env NAME[=ENV_VAR]` specs as environment variables for one command. */
export function secretEnvironment(store: SandboxStore, id: string, specs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const [name, variable] = spec.includes("=") ? (spec.split("=", 2) as [string, string]) : [spec, spec];
    validateSecretName(variable);
    env[variable] = secretValue(store, id, name).toString("utf8");
  }
  return env;
}

/** name → value of every secret of a workspace (masking skips values too short to mask). */
export function maskableSecrets(store: SandboxStore, id: string): SecretValues {
  return isWorkspaceId(id) ? readSecretValues(secretsDir(store, id)) : new Map();
}

/** Writes every secret to /run/pyro-secrets/<name> (0600) in the guest; not under /workspace. */
export async function materialiseSecrets(
  store: SandboxStore,
  id: string,
  run: GuestRunner,
  guestDir: string,
): Promise<void> {
  // Placed by the agent (root), then handed to the image's user, who runs the workspace's commands.
  // POSIX sh and the tools busybox has too.
  const user = loadVm(store, id).image?.user ?? null;
  const owner = user === null || user.uid === 0 ? "" : `${user.uid}:${user.gid}`;
  for (const name of secretNames(store, id)) {
    const script =
      'umask 077 && mkdir -p -- "$1" && chmod 700 -- "$1" && cat > "$1/$2" && chmod 600 -- "$1/$2"' +
      ' && { [ -z "$3" ] || chown -- "$3" "$1" "$1/$2"; }';
    const outcome = await run(["sh", "-c", script, "sh", guestDir, name, owner], {
      stdin: Readable.from([secretValue(store, id, name)]),
      asAgent: true,
    });
    if (outcome.exit_code !== 0) {
      throw new PyroError(
        "EXEC_FAILED",
        `could not place secret ${name} in the guest (exit ${outcome.exit_code})`,
      );
    }
  }
}

/** Where secrets go: /run/pyro-secrets in a guest; the VM's scratch folder in host-compat mode. */
export function guestSecretsDir(store: SandboxStore, id: string): string {
  return loadVm(store, id).execution_mode === "host_compat"
    ? join(vmFiles(machineDir(store, id)).scratch, "pyro-secrets")
    : GUEST_SECRETS_DIR;
}
