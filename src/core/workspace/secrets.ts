import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { PyroError } from "../../errors/index.js";
import { writeFileAtomic } from "../../platform/atomic-file.js";
import type { GuestRunner } from "./guest-runner.js";
import { loadVm } from "../vm-manager.js";
import { vmDir } from "../paths.js";
import { vmFiles } from "../vm-record.js";
import { workspaceFiles } from "./record.js";

/** Secret names become file and variable names: a conservative identifier, never a path. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_SECRET_BYTES = 64 * 1024;
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

const secretsDir = (id: string): string => join(workspaceFiles(id).dir, "secrets");

/** Host copies, owner-only (folder 0700, files 0600). */
export function storeSecrets(id: string, secrets: Map<string, Buffer>): void {
  if (secrets.size === 0) return;
  mkdirSync(secretsDir(id), { recursive: true, mode: 0o700 });
  chmodSync(secretsDir(id), 0o700);
  for (const [name, value] of secrets) writeFileAtomic(join(secretsDir(id), name), value, 0o600);
}

export function secretNames(id: string): string[] {
  return existsSync(secretsDir(id))
    ? readdirSync(secretsDir(id))
        .filter((name) => SECRET_NAME.test(name))
        .sort()
    : [];
}

function secretValue(id: string, name: string): Buffer {
  const path = join(secretsDir(id), validateSecretName(name));
  if (!existsSync(path)) throw new PyroError("SECRET_NOT_FOUND", `workspace ${id} has no secret ${name}`);
  return readFileSync(path);
}

/** `--secret-env NAME[=ENV_VAR]` specs as environment variables for one command. */
export function secretEnvironment(id: string, specs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const [name, variable] = spec.includes("=") ? (spec.split("=", 2) as [string, string]) : [spec, spec];
    validateSecretName(variable);
    env[variable] = secretValue(id, name).toString("utf8");
  }
  return env;
}

/** name → value of every secret long enough to mask without destroying ordinary output. */
export function maskableSecrets(id: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const name of secretNames(id)) {
    const value = secretValue(id, name).toString("utf8");
    if (value.length >= 4) values.set(name, value);
  }
  return values;
}

export function maskText(text: string, secrets: Map<string, string>): string {
  let masked = text;
  for (const [name, value] of secrets) masked = masked.split(value).join(`[secret:${name}]`);
  return masked;
}

/**
 * Replaces every secret value in text that pyro returns or keeps (command output, shell and
 * service output, logs) with a marker, so agents do not see a token by accident.
 */
export function maskSecrets(id: string, text: string): string {
  return maskText(text, maskableSecrets(id));
}

/**
 * Masks a live stream: holds back the last (longest secret − 1) characters of each chunk, so a
 * value split across two chunks is still caught.
 */
export class StreamMasker {
  private pending = "";
  private readonly holdBack: number;

  constructor(private readonly secrets: Map<string, string>) {
    this.holdBack = Math.max(0, ...[...secrets.values()].map((value) => value.length - 1));
  }

  get active(): boolean {
    return this.secrets.size > 0;
  }

  push(chunk: Buffer): string {
    const text = maskText(this.pending + chunk.toString("utf8"), this.secrets);
    if (this.holdBack === 0) return text;
    const cut = Math.max(0, text.length - this.holdBack);
    this.pending = text.slice(cut);
    return text.slice(0, cut);
  }

  flush(): string {
    const rest = maskText(this.pending, this.secrets);
    this.pending = "";
    return rest;
  }
}

/** Writes every secret to /run/pyro-secrets/<name> (0600) in the guest; not under /workspace. */
export async function materialiseSecrets(id: string, run: GuestRunner, guestDir: string): Promise<void> {
  for (const name of secretNames(id)) {
    const script =
      'umask 077 && mkdir -p -- "$1" && chmod 700 -- "$1" && cat > "$1/$2" && chmod 600 -- "$1/$2"';
    const outcome = await run(["sh", "-c", script, "sh", guestDir, name], {
      stdin: Readable.from([secretValue(id, name)]),
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
export function guestSecretsDir(id: string): string {
  return loadVm(id).execution_mode === "host_compat"
    ? join(vmFiles(vmDir(id)).scratch, "pyro-secrets")
    : GUEST_SECRETS_DIR;
}
