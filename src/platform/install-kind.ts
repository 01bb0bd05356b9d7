import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, packageVersion } from "./package-info.js";

/**
 * How this copy of pyro runs: from a source checkout, which builds its native parts itself
 * (`npm run build`), or as an installed npm package, which ships them built: there the fix for a
 * missing or broken part is a reinstall, never a build the user has no sources for.
 */
export type InstallKind = "checkout" | "package";

/** A checkout has its sources (src/) or git metadata at the package root; the npm package ships neither. */
export function installKindOf(root: string): InstallKind {
  return existsSync(join(root, "src")) || existsSync(join(root, ".git")) ? "checkout" : "package";
}

export function installKind(): InstallKind {
  return installKindOf(packageRoot());
}

/** The native parts pyro runs on the host: the static guest agent and the network helper. */
export type NativePart = "agent" | "netstack";

/** The oldest glibc the packaged pyro-netstack and its bundled libraries run on (scripts/prepack.sh checks it). */
export const NETSTACK_GLIBC_FLOOR = "2.34";

const BUILD: Record<NativePart, string> = {
  agent: "Run `npm run build:agent` (needs musl-tools: sudo apt install musl-tools).",
  netstack:
    "Install libslirp-dev and libseccomp-dev (sudo apt install libslirp-dev libseccomp-dev) and run `npm run build`.",
};

const SHIPPED: Record<NativePart, string> = {
  agent: "the static guest agent (guest/build/pyro-agent)",
  netstack: `pyro-netstack with its libraries (netstack/build/; it needs glibc ${NETSTACK_GLIBC_FLOOR} or newer: Debian 12, Ubuntu 22.04 or later)`,
};

/** What to do when a native part is missing or does not run, worded for this kind of install. */
export function nativePartFix(part: NativePart, kind: InstallKind = installKind()): string {
  if (kind === "checkout") return BUILD[part];
  const version = packageVersion();
  return (
    `Reinstall pyro-mcp: \`npm install pyro-mcp@${version}\` (for npx, delete ~/.npm/_npx and run ` +
    `\`npx -y pyro-mcp@${version}\` again). The package ships ${SHIPPED[part]}; nothing is compiled on your machine.`
  );
}

/** Why a native part is absent, as doctor and errors report it. */
export function nativePartMissing(part: NativePart, kind: InstallKind = installKind()): string {
  const name = part === "agent" ? "the guest agent" : "pyro-netstack";
  return kind === "checkout" ? `${name} is not built` : `${name} is missing from this installed package`;
}
