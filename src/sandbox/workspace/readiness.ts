import { PyroError } from "../../errors/index.js";
import type { GuestRunner } from "./guest-runner.js";
import type { GuestPortProbe } from "./port-probe.js";

/** How a service proves it is ready (probeReady says where it is checked from). */
export type Readiness =
  | { type: "file"; path: string }
  | { type: "tcp"; host: string; port: number }
  | { type: "http"; url: string }
  | { type: "command"; command: string };

export function parseTcpTarget(target: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535 || !/^[A-Za-z0-9.\-:[\]]+$/.test(match[1] as string)) {
    throw new PyroError("INVALID_ARGUMENT", `--ready-tcp wants HOST:PORT, got "${target}"`);
  }
  return { host: (match[1] as string).replace(/^\[|\]$/g, ""), port };
}

export function checkHttpUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PyroError("INVALID_ARGUMENT", `--ready-http wants a URL, got "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new PyroError("INVALID_ARGUMENT", `--ready-http needs an http:// or https:// URL, got "${url}"`);
  }
  return parsed.toString();
}

/** Hosts the agent's connection stream reaches: it connects to the guest's 127.0.0.1. */
const LOOPBACK = new Set(["127.0.0.1", "localhost"]);

// In-guest probes, for targets the agent's stream does not reach (another address, https); exit 0
// = ready. Each takes what the guest has: bash, curl, or busybox's nc and wget. Targets travel as
// arguments, never inside the script text.
const PROBES = {
  file: 'test -e "$1"',
  tcp: [
    'if command -v bash >/dev/null 2>&1; then exec timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" sh "$1" "$2"; fi',
    // nc exits 1 when it cannot connect; one that connected is stopped by timeout.
    'timeout 2 nc "$1" "$2" </dev/null >/dev/null 2>&1; rc=$?; [ "$rc" -ne 1 ] && [ "$rc" -ne 127 ]',
  ].join("\n"),
  // 2xx/3xx = ready.
  http: [
    'if command -v curl >/dev/null 2>&1; then exec curl -fsS -o /dev/null --max-time 2 "$1"; fi',
    'if command -v wget >/dev/null 2>&1; then exec timeout 3 wget -q -O /dev/null "$1"; fi',
    'case "$1" in http://*) ;; *) echo "https readiness needs curl or wget in the guest" >&2; exit 2;; esac',
    'command -v bash >/dev/null 2>&1 || { echo "http readiness needs curl, wget or bash in the guest" >&2; exit 2; }',
    'rest=${1#http://}; hostport=${rest%%/*}; path=/${rest#*/}; [ "$rest" = "$hostport" ] && path=/',
    'host=${hostport%:*}; port=${hostport##*:}; [ "$host" = "$hostport" ] && port=80',
    // The status line is read with bash's own `read`: no pipe, so no SIGPIPE when the server closes early.
    `exec timeout 3 bash -c 'trap "" PIPE; exec 3<>/dev/tcp/$0/$1 || exit 1; printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$2" "$0" >&3; read -r status <&3; case "$status" in "HTTP/"*" 2"*|"HTTP/"*" 3"*) exit 0;; esac; exit 1' "$host" "$port" "$path"`,
  ].join("\n"),
};

/** An HTTP/1.0 GET whose answer's status line says 2xx or 3xx. */
const READY_STATUS = /^HTTP\/\d(\.\d)? [23]\d\d(\s|$)/;

/**
 * Runs one readiness probe; true when the service answered. A tcp or http target on the guest's
 * loopback is probed from the host through the agent's connection stream (no guest tool at all);
 * anything else runs a probe in the guest.
 */
export async function probeReady(
  run: GuestRunner,
  probePort: GuestPortProbe,
  readiness: Readiness,
  cwd: string,
): Promise<boolean> {
  if (readiness.type === "tcp" && LOOPBACK.has(readiness.host))
    return (await probePort(readiness.port, null)).connected;
  if (readiness.type === "http") {
    const url = new URL(readiness.url);
    if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) {
      const port = url.port === "" ? 80 : Number(url.port);
      const request = `GET ${url.pathname}${url.search} HTTP/1.0\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`;
      const { firstLine } = await probePort(port, request);
      return firstLine !== null && READY_STATUS.test(firstLine);
    }
  }
  const argv =
    readiness.type === "file"
      ? ["sh", "-c", PROBES.file, "sh", readiness.path]
      : readiness.type === "tcp"
        ? ["sh", "-c", PROBES.tcp, "sh", readiness.host, String(readiness.port)]
        : readiness.type === "http"
          ? ["sh", "-c", PROBES.http, "sh", readiness.url]
          : ["sh", "-c", readiness.command];
  const outcome = await run(argv, { cwd, timeoutSeconds: 10 });
  return outcome.exit_code === 0;
}

/**
 * The host-side check for an http readiness URL whose guest port is published: such a service
 * counts as ready only once it also answers through that port from the host.
 */
export function hostCheckFor(
  readiness: Readiness,
  ports: readonly { host_port: number; guest_port: number }[],
): { url: string; hostPort: number } | null {
  if (readiness.type !== "http") return null;
  const url = new URL(readiness.url);
  if (url.protocol !== "http:") return null;
  const guestPort = url.port === "" ? 80 : Number(url.port);
  const hostPort = ports.find((p) => p.guest_port === guestPort)?.host_port;
  return hostPort === undefined ? null : { url: readiness.url, hostPort };
}

/** GET on the host's 127.0.0.1:hostPort with the URL's path; true on 2xx/3xx. */
export async function probeHttpOnHost(url: string, hostPort: number): Promise<boolean> {
  const parsed = new URL(url);
  try {
    const response = await fetch(`http://127.0.0.1:${hostPort}${parsed.pathname}${parsed.search}`, {
      redirect: "manual",
      signal: AbortSignal.timeout(3_000),
    });
    await response.body?.cancel();
    return response.status >= 200 && response.status < 400;
  } catch {
    return false;
  }
}
