import { PyroError } from "../../errors/index.js";

/** What a guest may do on the network. `off` gives it loopback only. */
export const NETWORK_POLICIES = ["off", "egress", "egress+published-ports"] as const;
export type NetworkPolicy = (typeof NETWORK_POLICIES)[number];

export const allowsEgress = (policy: NetworkPolicy): boolean => policy !== "off";
export const allowsPublishing = (policy: NetworkPolicy): boolean => policy === "egress+published-ports";

/** --allow-private-egress widens egress; without egress there is nothing to widen. */
export function checkPrivateEgress(policy: NetworkPolicy, allowPrivateEgress: boolean): void {
  if (allowPrivateEgress && !allowsEgress(policy)) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `allow_private_egress needs a network policy with egress, and this one is ${policy}`,
      {
        hint: "Add --network (run, vm create) or --network-policy egress (workspace create), or drop --allow-private-egress.",
      },
    );
  }
}
