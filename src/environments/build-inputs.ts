import { PyroError } from "../errors/index.js";

const DEFAULT_MIRROR = "http://deb.debian.org/debian";
const DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security";
const SNAPSHOT_ARCHIVE = "http://snapshot.debian.org/archive";

/**
 * SOURCE_DATE_EPOCH of this pyro release's builds when neither a snapshot nor SOURCE_DATE_EPOCH
 * is given (2026-12-01T00:00:00Z). Moves forward with a release, so one release's builds from the
 * same archive state are byte-identical.
 */
export const RELEASE_SOURCE_DATE_EPOCH = 1_796_083_200;

/** Where a build's packages come from and the time every file in it carries. */
export interface ArchiveInputs {
  mirror: string;
  /** null: no security archive. */
  securityMirror: string | null;
  /** PYRO_DEBIAN_SNAPSHOT (YYYYMMDDTHHMMSSZ), or null for the live archive. */
  snapshot: string | null;
  sourceDateEpoch: number;
}

/**
 * Reads the archive inputs from the environment:
 * - PYRO_DEBIAN_SNAPSHOT=YYYYMMDDTHHMMSSZ pins both archives to snapshot.debian.org at that time
 *   (it takes precedence over PYRO_DEBIAN_MIRROR; PYRO_DEBIAN_SECURITY_MIRROR="" still drops
 *   security) and makes that time the default SOURCE_DATE_EPOCH;
 * - otherwise PYRO_DEBIAN_MIRROR and PYRO_DEBIAN_SECURITY_MIRROR ("" = none), default deb.debian.org;
 * - SOURCE_DATE_EPOCH, when set, wins; else the snapshot's time; else RELEASE_SOURCE_DATE_EPOCH.
 */
export function archiveInputs(env: NodeJS.ProcessEnv = process.env): ArchiveInputs {
  const snapshot = env.PYRO_DEBIAN_SNAPSHOT ? env.PYRO_DEBIAN_SNAPSHOT : null;
  const snapshotEpoch = snapshot === null ? null : snapshotSeconds(snapshot);
  const securityOff = env.PYRO_DEBIAN_SECURITY_MIRROR === "";
  const mirror = snapshot
    ? `${SNAPSHOT_ARCHIVE}/debian/${snapshot}`
    : env.PYRO_DEBIAN_MIRROR || DEFAULT_MIRROR;
  const security = snapshot
    ? `${SNAPSHOT_ARCHIVE}/debian-security/${snapshot}`
    : (env.PYRO_DEBIAN_SECURITY_MIRROR ?? DEFAULT_SECURITY_MIRROR);
  return {
    mirror,
    securityMirror: securityOff ? null : security,
    snapshot,
    sourceDateEpoch: sourceDateEpoch(env.SOURCE_DATE_EPOCH) ?? snapshotEpoch ?? RELEASE_SOURCE_DATE_EPOCH,
  };
}

/** apt source lines for `suite`: main and updates from the mirror, security when there is one. */
export function debianSources(suite: string, inputs: ArchiveInputs): string[] {
  const sources = [`deb ${inputs.mirror} ${suite} main`, `deb ${inputs.mirror} ${suite}-updates main`];
  if (inputs.securityMirror !== null) sources.push(`deb ${inputs.securityMirror} ${suite}-security main`);
  return sources;
}

function snapshotSeconds(snapshot: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(snapshot);
  const [year, month, day, hour, minute, second] = (match?.slice(1) ?? []).map(Number);
  const millis =
    match && year !== undefined && month !== undefined
      ? Date.UTC(year, month - 1, day, hour, minute, second)
      : Number.NaN;
  // Date.UTC rolls 20240230 over to March: the round trip catches impossible dates.
  const valid =
    Number.isFinite(millis) &&
    new Date(millis)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.000Z$/, "Z") === snapshot;
  if (!valid || millis < Date.UTC(2005, 2, 12)) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `PYRO_DEBIAN_SNAPSHOT must be a snapshot.debian.org time like 20240601T000000Z, got "${snapshot}".`,
      { hint: "Pick a time from https://snapshot.debian.org/archive/debian/ (UTC, YYYYMMDDTHHMMSSZ)." },
    );
  }
  return millis / 1000;
}

function sourceDateEpoch(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const seconds = Number(value);
  if (!/^\d{1,10}$/.test(value) || seconds < 1 || seconds > 0x7fffffff) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${value}".`,
      {
        hint: "Unset it, or set it to e.g. $(date -u +%s -d 2024-06-01).",
      },
    );
  }
  return seconds;
}
