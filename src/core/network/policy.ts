import { z } from "zod";

/** What a guest may do on the network. `off` gives it loopback only. */
export const NetworkPolicy = z.enum(["off", "egress", "egress+published-ports"]);
export type NetworkPolicy = z.infer<typeof NetworkPolicy>;

export const allowsEgress = (policy: NetworkPolicy): boolean => policy !== "off";
export const allowsPublishing = (policy: NetworkPolicy): boolean => policy === "egress+published-ports";
