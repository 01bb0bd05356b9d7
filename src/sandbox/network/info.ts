import type { SandboxStore } from "../store.js";
import { isSupervisorAlive, loadVm } from "../vm/manager.js";
import { allowsEgress, type NetworkPolicy } from "./policy.js";
import { supervisorControl } from "../supervisor-client.js";
import type { PublishedPort } from "../../runtime/published-ports.js";

export interface NetworkInfo {
  vm_id: string;
  policy: NetworkPolicy;
  network_enabled: boolean;
  /** Private ranges reachable (--allow-private-egress); host-local addresses never are. */
  allow_private_egress: boolean;
  interfaces: string[];
  guest_ip: string | null;
  prefix_length: number | null;
  gateway: string | null;
  dns: string | null;
  mtu: number | null;
  /** What carries the guest's traffic on the host (null with policy off). */
  helper: string | null;
  /** Filled while the VM runs; ports are released when it stops. */
  published_ports: PublishedPort[];
}

/** A VM's (or workspace's) network as configured for its current or last boot. */
export async function networkInfo(store: SandboxStore, vmId: string): Promise<NetworkInfo> {
  const record = loadVm(store, vmId);
  const plan = record.network_plan;
  const running = record.state === "running" && isSupervisorAlive(store, record);
  const enabled = allowsEgress(record.network_policy);
  return {
    vm_id: record.id,
    policy: record.network_policy,
    network_enabled: enabled,
    allow_private_egress: record.allow_private_egress,
    interfaces: enabled ? ["lo", "eth0"] : ["lo"],
    guest_ip: plan?.address ?? null,
    prefix_length: plan?.prefix_length ?? null,
    gateway: plan?.gateway ?? null,
    dns: plan?.dns ?? null,
    mtu: plan?.mtu ?? null,
    helper: plan === null ? null : plan.helper,
    published_ports: running && enabled ? await supervisorControl(store, vmId).ports() : [],
  };
}
