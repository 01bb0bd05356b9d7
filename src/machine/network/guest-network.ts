import { z } from "zod";

/** How a guest with egress is wired: what its eth0 gets, as pyro-netstack presents it. */
export const GuestNetwork = z.object({
  address: z.string(),
  prefix_length: z.number().int(),
  gateway: z.string(),
  /** pyro-netstack answers DNS here with the host's resolvers. */
  dns: z.string().nullable(),
  mtu: z.number().int(),
  helper: z.literal("pyro-netstack"),
  /** Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10) are refused unless this is set. */
  allow_private_egress: z.boolean().default(false),
});
export type GuestNetwork = z.infer<typeof GuestNetwork>;

/** The agent reads pyro.net=ADDRESS/PREFIX,GATEWAY,DNS,MTU to configure eth0. */
export function guestNetworkKernelArg(plan: GuestNetwork): string {
  return `pyro.net=${plan.address}/${plan.prefix_length},${plan.gateway},${plan.dns ?? "-"},${plan.mtu}`;
}
