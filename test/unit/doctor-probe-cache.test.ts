import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DoctorProbeCache } from "../../src/doctor/probe-cache-schema.js";
import { probeInputs, readProbeCache, writeProbeCache } from "../../src/doctor/probe-cache.js";

const check = { name: "qemu", status: "PASS" as const, detail: "/usr/bin/qemu", fix: null };

describe("doctor's cached host probe", () => {
  let home: string;
  let tool: string;
  let cache: DoctorProbeCache;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "pyro-probe-cache-"));
    tool = join(home, "qemu-system-x86_64");
    writeFileSync(tool, "v1");
    cache = {
      schema: 1,
      measured_at: new Date().toISOString(),
      inputs: probeInputs("debian:12", [tool]),
      survey: {
        checks: [check],
        tools: { qemu: tool },
        kvm: {
          device: "/dev/kvm",
          exists: false,
          readable: false,
          writable: false,
          usable: null,
          evidence: "no device",
          probed_at: null,
          cached: false,
        },
        selected: "qemu (tcg)",
      },
      hardening: [],
    };
    writeProbeCache(home, cache);
  });
  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
    delete process.env.PYRO_PROBE_CACHE_TEST;
  });

  it("answers while nothing it was measured with changed, tools it found included", () => {
    expect(readProbeCache(home, probeInputs("debian:12", []))).toEqual(cache);
  });

  it("measures again when a tool changes, the environment or a PYRO_ variable differs, or after a day", () => {
    utimesSync(tool, new Date(), new Date(Date.now() + 5_000));
    expect(readProbeCache(home, probeInputs("debian:12", []))).toBeNull();
    writeProbeCache(home, { ...cache, inputs: probeInputs("debian:12", [tool]) });
    expect(readProbeCache(home, probeInputs("debian:12", []))).not.toBeNull();
    expect(readProbeCache(home, probeInputs("debian:12-base", []))).toBeNull();
    process.env.PYRO_PROBE_CACHE_TEST = "1";
    expect(readProbeCache(home, probeInputs("debian:12", []))).toBeNull();
    delete process.env.PYRO_PROBE_CACHE_TEST;
    expect(readProbeCache(home, probeInputs("debian:12", []), Date.now() + 25 * 3600_000)).toBeNull();
  });

  it("ignores a damaged cache", () => {
    writeFileSync(join(home, "doctor-probe.json"), JSON.stringify({ ...cache, survey: { checks: "x" } }));
    expect(readProbeCache(home, probeInputs("debian:12", []))).toBeNull();
    writeFileSync(join(home, "doctor-probe.json"), "{");
    expect(readProbeCache(home, probeInputs("debian:12", []))).toBeNull();
  });
});
