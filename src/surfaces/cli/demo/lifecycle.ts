import { PyroError } from "../../../errors/index.js";
import type { VmExecOutcome } from "../../../api/specs/vm.js";
import type { Invoke } from "../output.js";
import { stderrPhases } from "../output.js";

const OFFLINE_COMMAND = "git --version";

export interface DemoOptions {
  environment: string;
  network: boolean;
  /** What the network demo resolves and fetches (http:// only). */
  url: string;
}

/** What `pyro demo` prints: the original product's shape (cleanup, command, …), plus the network checks. */
export interface DemoResult {
  cleanup: VmExecOutcome["cleanup"];
  command: string;
  environment: string;
  execution_mode: string;
  exit_code: number;
  stdout: string;
  stderr: string;
  duration_ms: number;
  vm_id: string;
  network_enabled: boolean;
  network?: {
    host: string;
    dns_addresses: string[];
    url: string;
    http_status_line: string | null;
    /** The body's last line, so a reader sees the page arrived. */
    http_body_tail: string | null;
  };
}

/** The guest command of the network demo (a bash argv): resolve the host by DNS, then GET the URL over /dev/tcp. */
export function networkCommand(url: string): { argv: string[]; display: string; host: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PyroError("INVALID_ARGUMENT", `--url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "http:") {
    throw new PyroError("INVALID_ARGUMENT", `--url must be http:// (got ${parsed.protocol})`, {
      hint: "The demo fetches with bash's /dev/tcp, which speaks no TLS; give a plain http:// URL.",
    });
  }
  const host = parsed.hostname;
  const port = parsed.port || "80";
  const path = `${parsed.pathname}${parsed.search}`;
  // Every piece is checked by URL parsing; quoting keeps them data all the same.
  const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  const script = [
    `set -e; host=${quote(host)}; port=${quote(port)}; path=${quote(path)}`,
    `echo "dns: $(getent ahostsv4 "$host" | awk '{print $1}' | sort -u | tr '\\n' ' ')"`,
    `exec 3<>"/dev/tcp/$host/$port"`,
    `printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n' "$path" "$host" >&3`,
    `response=$(tr -d '\\r' <&3)`,
    `echo "http: $(printf '%s\\n' "$response" | head -n1)"`,
    `echo "body: $(printf '%s\\n' "$response" | tail -n1)"`,
  ].join("\n");
  return { argv: ["bash", "-c", script], display: `bash -c ${quote(script)}`, host };
}

/** Reads the `dns:` and `http:` lines the network command prints. */
function networkChecks(stdout: string, host: string, url: string): NonNullable<DemoResult["network"]> {
  const line = (prefix: string): string | undefined =>
    stdout
      .split("\n")
      .find((candidate) => candidate.startsWith(prefix))
      ?.slice(prefix.length)
      .trim();
  const addresses = (line("dns:") ?? "").split(/\s+/).filter((address) => address !== "");
  return {
    host,
    dns_addresses: addresses,
    url,
    http_status_line: line("http:") || null,
    http_body_tail: line("body:") || null,
  };
}

/**
 * One VM's whole life, step by step: create, start, exec (which deletes it), as `pyro vm …` would.
 * The VM is deleted whatever happens.
 */
export async function runDemo(invoke: Invoke, options: DemoOptions): Promise<DemoResult> {
  const { vmCreate, vmStart, vmExec, vmDelete } = await import("../../../api/specs/vm.js");
  const target = options.network ? networkCommand(options.url) : undefined;
  const command: string | string[] = target?.argv ?? OFFLINE_COMMAND;
  const onPhase = stderrPhases("demo");
  const created = await invoke(
    vmCreate,
    { environment: options.environment, network: options.network },
    { onPhase },
  );
  onPhase("created", { vm_id: created.vm_id });
  let outcome: VmExecOutcome;
  try {
    await invoke(vmStart, { vm_id: created.vm_id }, { onPhase });
    onPhase("started", { vm_id: created.vm_id });
    outcome = await invoke(vmExec, { vm_id: created.vm_id, command, timeout_seconds: 60 }, { onPhase });
  } catch (error) {
    await invoke(vmDelete, { vm_id: created.vm_id }, { onPhase }).catch(() => undefined);
    throw error;
  }
  onPhase("deleted", { vm_id: created.vm_id, deleted: String(outcome.cleanup.deleted) });
  return {
    cleanup: outcome.cleanup,
    command: target?.display ?? OFFLINE_COMMAND,
    environment: created.environment,
    execution_mode: created.execution_mode,
    exit_code: outcome.exit_code,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    duration_ms: outcome.duration_ms,
    vm_id: created.vm_id,
    network_enabled: options.network,
    ...(target !== undefined ? { network: networkChecks(outcome.stdout, target.host, options.url) } : {}),
  };
}

/** True when the demo proved what it set out to: the command succeeded, and DNS and HTTP worked. */
export function demoSucceeded(result: DemoResult): boolean {
  if (result.exit_code !== 0) return false;
  if (result.network === undefined) return true;
  return (
    result.network.dns_addresses.length > 0 &&
    /^HTTP\/\d(\.\d)? \d{3}/.test(result.network.http_status_line ?? "")
  );
}
