import { z } from "zod";

/** How a guest with egress is wired: what its eth0 gets and how the host side reaches out. */
export const GuestNetwork = z.object({
  address: z.string(),
  prefix_length: z.number().int(),
  gateway: z.string(),
  /** What the guest asks for names; the helper forwards it to the host's first resolver. */
  dns: z.string().nullable(),
  mtu: z.number().int(),
  host_interface: z.string(),
  helper: z.literal("passt"),
});
export type GuestNetwork = z.infer<typeof GuestNetwork>;

/** The agent reads pyro.net=ADDRESS/PREFIX,GATEWAY,DNS,MTU to configure eth0. */
export function guestNetworkKernelArg(plan: GuestNetwork): string {
  return `pyro.net=${plan.address}/${plan.prefix_length},${plan.gateway},${plan.dns ?? "-"},${plan.mtu}`;
}
