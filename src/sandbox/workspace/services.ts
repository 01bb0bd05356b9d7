import type { SandboxStore } from "../store.js";
import { setTimeout as sleep } from "node:timers/promises";
import { PyroError } from "../../errors/index.js";
import { GUEST_WORKDIR, guestEnv, guestUser } from "../guest-env.js";
import type { ManagedInfo } from "../../runtime/managed.js";
import { supervisorControl } from "../supervisor-client.js";
import { touch, updateWorkspace } from "./lock.js";
import { resolveWorkspacePath } from "./paths.js";
import {
  checkPublishingAllowed,
  publishPorts,
  releasePorts,
  type PortRequest,
} from "../network/publishing.js";
import type { PublishedPort } from "../../runtime/published-ports.js";
import { agentPortProbe } from "./port-probe.js";
import { hostCheckFor, probeHttpOnHost, probeReady, type Readiness } from "./readiness.js";
import { runningWorkspace } from "./running.js";
import { markServiceReady, serviceReady } from "./service-ready.js";
import { secretEnvironment, secretsDir } from "./secrets.js";
import { signalNumber } from "./signals.js";
import { throwIfRefused } from "./start-refusal.js";

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const STOP_GRACE_MS = 5_000;
const FAILURE_LOG_LINES = 20;

export interface ServiceInfo {
  workspace_id: string;
  service_name: string;
  state: "starting" | "running" | "exited";
  ready: boolean | null;
  pid: number | null;
  exit_code: number | null;
  signal: number | null;
  cwd: string;
  started_at: string;
  ended_at: string | null;
  /** Host ports relaying to this service; released when it stops. */
  published_ports: PublishedPort[];
}

function serviceInfo(
  store: SandboxStore,
  id: string,
  info: ManagedInfo,
  ports: readonly PublishedPort[],
  ready: boolean | null = null,
): ServiceInfo {
  return {
    workspace_id: id,
    service_name: info.name,
    state: info.state,
    ready: ready ?? serviceReady(store, id, info.name, info.started_at),
    pid: info.pid,
    exit_code: info.exit_code,
    signal: info.signal,
    cwd: info.cwd,
    started_at: info.started_at,
    ended_at: info.ended_at,
    published_ports: ports.filter((p) => p.service === info.name),
  };
}

export interface StartServiceOptions {
  command: string | string[];
  cwd?: string;
  readiness: Readiness | null;
  readyTimeoutSeconds: number;
  readyIntervalMs: number;
  secretEnv?: string[];
  /** Guest ports to publish on the host's 127.0.0.1 (policy egress+published-ports). */
  publish?: PortRequest[];
}

/**
 * Starts a long-running command owned by the VM's supervisor, then waits for its readiness
 * check. A service that exits or never gets ready is stopped and reported with its last log lines.
 */
export async function startService(
  store: SandboxStore,
  id: string,
  name: string,
  options: StartServiceOptions,
): Promise<ServiceInfo> {
  const { run, record } = runningWorkspace(store, id);
  if (!SERVICE_NAME.test(name)) {
    throw new PyroError("INVALID_ARGUMENT", `invalid service name ${JSON.stringify(name)}`, {
      hint: "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    });
  }
  const relative = options.cwd === undefined ? "." : resolveWorkspacePath(options.cwd);
  const cwd = relative === "." ? GUEST_WORKDIR : `${GUEST_WORKDIR}/${relative}`;
  const env = guestEnv(record.image, secretEnvironment(store, id, options.secretEnv ?? []));
  const command =
    typeof options.command === "string" ? { shell: options.command } : { args: options.command };
  const publish = options.publish ?? [];
  if (publish.length > 0) checkPublishingAllowed(store, id);
  // Ports first: a taken host port fails the start before the service runs.
  const ports = publish.length > 0 ? await publishPorts(store, id, publish, name) : [];
  let started: ManagedInfo;
  try {
    started = await supervisorControl(store, id).start({
      kind: "service",
      name,
      request: { ...command, env, cwd, ...guestUser(record.image) },
      mask_dir: secretsDir(store, id),
    });
  } catch (error) {
    await releasePorts(store, id, ports);
    throw error;
  }
  await throwIfRefused(store, id, started).catch(async (error: unknown) => {
    await releasePorts(store, id, ports);
    throw error;
  });
  await updateWorkspace(store, id, touch);
  if (options.readiness === null) return serviceInfo(store, id, started, ports);
  const hostCheck = hostCheckFor(options.readiness, ports);

  const deadline = Date.now() + options.readyTimeoutSeconds * 1000;
  for (;;) {
    const info = await serviceState(store, id, name);
    if (info.state === "exited") {
      throw new PyroError(
        "SERVICE_NOT_READY",
        `service ${name} exited (code ${info.exit_code}) before it was ready\n${await tail(store, id, name)}`,
        {
          hint: "Check the service's command; its last log lines are above.",
          details: { exit_code: info.exit_code },
        },
      );
    }
    const ready =
      (await probeReady(run, agentPortProbe(store, id), options.readiness, cwd)) &&
      (hostCheck === null || (await probeHttpOnHost(hostCheck.url, hostCheck.hostPort)));
    if (ready) {
      markServiceReady(store, id, name, info.started_at);
      return serviceInfo(store, id, info, ports, true);
    }
    if (Date.now() >= deadline) {
      await stopService(store, id, name);
      throw new PyroError(
        "SERVICE_NOT_READY",
        `service ${name} was not ready after ${options.readyTimeoutSeconds}s (${options.readiness.type} check); it was stopped\n${await tail(store, id, name)}`,
      );
    }
    await sleep(options.readyIntervalMs);
  }
}

async function serviceState(store: SandboxStore, id: string, name: string): Promise<ManagedInfo> {
  return supervisorControl(store, id).wait({ kind: "service", id: name, timeout_ms: 0 });
}

async function tail(store: SandboxStore, id: string, name: string): Promise<string> {
  const logs = await serviceLogs(store, id, name, FAILURE_LOG_LINES);
  return logs.logs === "" ? "(no output)" : `--- last log lines ---\n${logs.logs}`;
}

export async function listServices(
  store: SandboxStore,
  id: string,
): Promise<{ workspace_id: string; services: ServiceInfo[]; count: number }> {
  runningWorkspace(store, id);
  const control = supervisorControl(store, id);
  const processes = await control.list();
  const ports = await control.ports();
  const services = processes.filter((p) => p.kind === "service").map((p) => serviceInfo(store, id, p, ports));
  return { workspace_id: id, services, count: services.length };
}

export async function statusService(store: SandboxStore, id: string, name: string): Promise<ServiceInfo> {
  runningWorkspace(store, id);
  return serviceInfo(
    store,
    id,
    await serviceState(store, id, name),
    await supervisorControl(store, id).ports(),
  );
}

/** The last lines of a service's output (stdout and stderr, merged as they came), secrets masked. */
export async function serviceLogs(store: SandboxStore, id: string, name: string, tailLines: number) {
  runningWorkspace(store, id);
  const info = await serviceState(store, id, name);
  const { data } = await supervisorControl(store, id).read({
    kind: "service",
    id: name,
    cursor: Math.max(0, info.output_end - 60_000),
    max_bytes: 60_000,
  });
  const text = data.toString("utf8");
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n").slice(-tailLines);
  return {
    workspace_id: id,
    service_name: name,
    logs: lines.join("\n"), // masked by the supervisor as it was kept
    tail_lines: tailLines,
  };
}

/** TERM, then KILL after a grace period. */
export async function stopService(store: SandboxStore, id: string, name: string): Promise<ServiceInfo> {
  runningWorkspace(store, id);
  const control = supervisorControl(store, id);
  const service = { kind: "service", id: name } as const;
  await control.signal({ ...service, signo: signalNumber("TERM") });
  let info = await control.wait({ ...service, timeout_ms: STOP_GRACE_MS });
  if (info.state !== "exited") {
    await control.signal({ ...service, signo: signalNumber("KILL") });
    info = await control.wait({ ...service, timeout_ms: STOP_GRACE_MS });
  }
  await updateWorkspace(store, id, touch);
  // Its published ports were released by the supervisor when it ended.
  return serviceInfo(store, id, info, []);
}
