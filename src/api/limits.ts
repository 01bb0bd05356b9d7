import { totalmem } from "node:os";
import { z } from "zod";
import { DEFAULT_ENVIRONMENT } from "../environments/catalog.js";

/** Shared parameter schemas, so every surface validates the same way with the same words. */
export const MAX_VCPUS = 32;
export const MIN_MEM_MIB = 128;

export const environmentParam = z
  .string()
  .min(1)
  .default(DEFAULT_ENVIRONMENT)
  .describe("Environment name from the catalog, e.g. debian:12, debian:12-base, debian:12-build.");

export const vcpuCountParam = z
  .number()
  .int()
  .min(1, "vcpu_count must be at least 1")
  .max(MAX_VCPUS, `vcpu_count must be at most ${MAX_VCPUS}`)
  .default(1)
  .describe(`Virtual CPUs for the VM (1-${MAX_VCPUS}).`);

export const memMibParam = z
  .number()
  .int()
  .min(MIN_MEM_MIB, `mem_mib must be at least ${MIN_MEM_MIB}`)
  .refine((value) => value * 1024 * 1024 <= totalmem(), {
    message: `mem_mib must not exceed the host's memory (${Math.floor(totalmem() / 1024 / 1024)} MiB)`,
  })
  .default(1024)
  .describe("Guest memory in MiB (at least 128, at most the host's memory).");

export const timeoutSecondsParam = z
  .number()
  .int()
  .min(1, "timeout_seconds must be at least 1")
  .max(86_400, "timeout_seconds must be at most 86400")
  .default(30)
  .describe("Kill the command (its whole process group) after this many seconds.");

export const ttlSecondsParam = z
  .number()
  .int()
  .min(1, "ttl_seconds must be at least 1")
  .max(604_800, "ttl_seconds must be at most 604800 (7 days)")
  .default(600)
  .describe("Seconds until the VM is stopped and becomes reapable, counted from creation.");

/** A new TTL for an existing sandbox: no default, left out means unchanged. */
export const newTtlSecondsParam = z
  .number()
  .int()
  .min(1, "ttl_seconds must be at least 1")
  .max(604_800, "ttl_seconds must be at most 604800 (7 days)");

export const networkParam = z
  .boolean()
  .default(false)
  .describe(
    "Give the guest outbound network access (NAT through the host; the host's own loopback stays unreachable).",
  );

export const allowPrivateEgressParam = z
  .boolean()
  .default(false)
  .describe(
    "Let egress reach private ranges (10/8, 172.16/12, 192.168/16, 100.64/10), e.g. a LAN service. Needs egress; the host's own addresses stay unreachable.",
  );

export const allowHostCompatParam = z
  .boolean()
  .default(false)
  .describe("Allow running WITHOUT isolation, as a host process, when no VM can run here.");

export const commandParam = z
  .union([z.string().min(1), z.array(z.string()).min(1)], {
    error: (issue) =>
      issue.input === undefined
        ? "command is required (after -- on the CLI)"
        : "command must be a non-empty string (run via /bin/sh -c) or a non-empty array of strings (an argv)",
  })
  .describe("Command to run in the guest: a string runs via /bin/sh -c; an array is an argv.");

/**
 * vm_run's command: optional, because an environment imported from a container image may name
 * its own (Entrypoint + Cmd), as `docker run IMAGE` runs it.
 */
export const runCommandParam = commandParam
  .optional()
  .describe(
    "Command to run in the guest: a string runs via /bin/sh -c; an array is an argv. May be left out for an environment imported from a container image whose config sets Entrypoint or Cmd: then the image's Entrypoint followed by its Cmd run as an argv, as `docker run IMAGE` does. A command given replaces both Entrypoint and Cmd (docker run's replaces only Cmd). Left out for an environment without them: INVALID_ARGUMENT.",
  );

/** A per-call user, numeric: pyro never reads a guest's /etc/passwd (guest-env.ts parses it). */
export const userParam = z
  .string()
  .regex(/^(root|\d{1,10}(:\d{1,10})?)$/, "user must be root, UID or UID:GID (numbers)")
  .optional()
  .describe(
    "Run as this user instead of the environment image's User: root, UID or UID:GID (the group defaults to the UID's number). Default: the image's User, or root where the image names none.",
  );

export const vmIdParam = z.string().min(1).describe("VM id, as returned by vm_create.");
