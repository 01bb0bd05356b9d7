import { PyroError } from "../errors/index.js";

/** One official environment: what it is and what goes into it. */
export interface EnvironmentSpec {
  readonly name: string;
  readonly description: string;
  readonly distribution: "debian";
  readonly suite: "bookworm";
  /** Packages installed on top of Debian's minbase variant (shown as "default packages"). */
  readonly packages: readonly string[];
  /** Apparent size of the sparse root image; also the guest's disk size. */
  readonly rootfsSizeMiB: number;
}

export const DEFAULT_ENVIRONMENT = "debian:12";

export const ENVIRONMENT_CATALOG: readonly EnvironmentSpec[] = [
  {
    name: "debian:12",
    description: "Debian 12 with git preinstalled",
    distribution: "debian",
    suite: "bookworm",
    packages: ["git", "ca-certificates"],
    rootfsSizeMiB: 2048,
  },
  {
    name: "debian:12-base",
    description: "Debian 12 with a minimal shell and core Unix tools",
    distribution: "debian",
    suite: "bookworm",
    packages: ["ca-certificates", "procps"],
    rootfsSizeMiB: 2048,
  },
  {
    name: "debian:12-build",
    description: "Debian 12 with git and common build tools (gcc, make, python3, pkg-config, curl)",
    distribution: "debian",
    suite: "bookworm",
    packages: [
      "git",
      "ca-certificates",
      "build-essential",
      "make",
      "pkg-config",
      "python3",
      "python3-venv",
      "curl",
      "procps",
      "xz-utils",
      "unzip",
      "file",
    ],
    rootfsSizeMiB: 4096,
  },
];

export function environmentNames(): string[] {
  return ENVIRONMENT_CATALOG.map((spec) => spec.name);
}

export function findEnvironmentSpec(name: string): EnvironmentSpec | undefined {
  return ENVIRONMENT_CATALOG.find((spec) => spec.name === name);
}

/** The catalog entry for `name`, or ENVIRONMENT_UNKNOWN naming the valid choices. */
export function getEnvironmentSpec(name: string): EnvironmentSpec {
  const spec = findEnvironmentSpec(name);
  if (spec) return spec;
  throw new PyroError("ENVIRONMENT_UNKNOWN", `Unknown environment "${name}".`, {
    hint: `Valid environments: ${environmentNames().join(", ")}. Run \`pyro env list\` for details.`,
    details: { environment: name, valid: environmentNames() },
  });
}
