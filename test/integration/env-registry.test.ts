import { execFileSync } from "node:child_process";
import { copyFileSync, linkSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import {
  checkEnvironment,
  inspectEnvironment,
  installEntry,
  makeStaging,
  type InstalledEnvironment,
} from "../../src/environments/index.js";
import { pushEnvironment, type PushResult } from "../../src/environments/artifact/push.js";
import { pullEnvironment, type PullOptions } from "../../src/environments/pull-environment.js";
import { verifyEnvironment } from "../../src/environments/verify-environment.js";
import type { TransferProgress } from "../../src/environments/oci/index.js";
import { sha256File } from "../../src/platform/file-digest.js";
import {
  BUSYBOX_ENVIRONMENT,
  BUSYBOX_IMAGE,
  installBusyboxEnvironment,
} from "../helpers/busybox-environment.js";
import {
  blobGets,
  cacheLeftovers,
  installedEntries,
  storedBlobs,
  withEnv,
} from "../helpers/environment-cache.js";
import { buildBusyboxImage } from "../helpers/oci-images.js";
import { pathWithout } from "../helpers/path-without.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startRelay, type TcpRelay } from "../helpers/tcp-relay.js";
import { failureOf } from "../helpers/failure.js";

const VARIANT = "busybox-variant";

/** Replaces hard links (into the shared cache) with copies: a push makes the files it adds read-only. */
function detachFiles(environment: InstalledEnvironment): void {
  for (const path of [environment.kernelPath, environment.initramfsPath]) {
    copyFileSync(path, `${path}.copy`);
    renameSync(`${path}.copy`, path);
  }
}

/** A second environment sharing kernel and initramfs with `from`; only its root image differs (a label). */
async function installVariant(from: InstalledEnvironment): Promise<void> {
  const staging = await makeStaging(VARIANT);
  linkSync(from.kernelPath, join(staging, from.manifest.files.kernel.path));
  linkSync(from.initramfsPath, join(staging, from.manifest.files.initramfs.path));
  const rootfs = join(staging, from.manifest.files.rootfs.path);
  execFileSync("cp", ["--sparse=always", from.rootfsPath, rootfs]);
  execFileSync("tune2fs", ["-L", "variant", rootfs], { stdio: "ignore" });
  const manifest = {
    ...from.manifest,
    name: VARIANT,
    files: {
      ...from.manifest.files,
      rootfs: {
        ...from.manifest.files.rootfs,
        sha256: await sha256File(rootfs),
        size: statSync(rootfs).size,
      },
    },
  };
  writeFileSync(join(staging, "manifest.json"), JSON.stringify(manifest));
  await installEntry(staging, VARIANT);
}

describe("environment push and pull against a real registry", () => {
  let registry: TestRegistry;
  let relay: TcpRelay;
  let cleanupBusybox: () => void;
  let source: InstalledEnvironment;
  let pushed: PushResult;
  let pushedVariant: PushResult;
  const temp = mkdtempSync("/tmp/pyro-env-registry-");
  const pullCache = join(temp, "pull-cache");
  const inPullCache = <T>(fn: () => Promise<T>): Promise<T> =>
    withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: pullCache }, fn);

  beforeAll(async () => {
    registry = await startRegistry();
    relay = await startRelay(registry.host);
    const busybox = await installBusyboxEnvironment();
    cleanupBusybox = busybox.cleanup;
    const state = await checkEnvironment(BUSYBOX_ENVIRONMENT);
    if (state.status !== "installed") throw new Error("the busybox environment did not install");
    detachFiles(state.environment);
    source = state.environment;
    await installVariant(source);
    pushed = await pushEnvironment({
      name: BUSYBOX_ENVIRONMENT,
      reference: `${registry.host}/test/busybox:1`,
      insecure: true,
    });
    pushedVariant = await pushEnvironment({
      name: VARIANT,
      reference: `${registry.host}/test/variant:1`,
      insecure: true,
    });
  });
  afterAll(async () => {
    await relay?.close();
    await registry?.stop();
    cleanupBusybox?.();
    rmSync(temp, { recursive: true, force: true });
  });

  it("pulls what was pushed into another cache: same digests, pulled provenance, verifies; a second pull is cached", async () => {
    const sourceDetails = await inspectEnvironment(BUSYBOX_ENVIRONMENT);
    expect(pushed.layers.map((layer) => layer.role)).toEqual(["kernel", "initramfs", "rootfs"]);
    expect(pushed.layers[0]?.digest).toBe(`sha256:${source.manifest.files.kernel.sha256}`);
    expect(pushed.uploaded_bytes).toBe(pushed.total_bytes);

    const reference = `${relay.host}/test/busybox:1`;
    const phases: string[] = [];
    const outcome = await inPullCache(() =>
      pullEnvironment({ target: reference, insecure: true, onPhase: (phase) => phases.push(phase) }),
    );
    expect(outcome).toMatchObject({ source: "registry", reference, digest: pushed.digest, note: null });
    expect(phases).toEqual(["resolve", "fetch", "unpack", "installed"]);

    const pulled = await inPullCache(() => inspectEnvironment(BUSYBOX_ENVIRONMENT));
    expect(pulled.install_dir.startsWith(pullCache)).toBe(true);
    expect(pulled.artifacts).toEqual(sourceDetails.artifacts);
    expect(pulled.artifacts.map((a) => a.role)).toEqual(["kernel", "initramfs", "rootfs"]);
    expect(pulled.provenance).toEqual({ kind: "pulled", reference, manifest_digest: pushed.digest });
    expect(pulled.origin).toBe(`pulled from ${reference}@${pushed.digest}`);
    expect(pulled.source).toBe("oci");
    expect(pulled.image).toEqual(BUSYBOX_IMAGE);
    // The files themselves, hashed again, not only what the manifest claims.
    const report = await inPullCache(() => verifyEnvironment(BUSYBOX_ENVIRONMENT));
    expect(report.ok).toBe(true);
    for (const file of report.files) {
      expect(await sha256File(join(pulled.install_dir, file.path))).toBe(
        sourceDetails.artifacts.find((a) => a.role === file.role)?.sha256,
      );
    }
    expect(cacheLeftovers(pullCache)).toEqual({ staging: [], partial: [] });

    const before = relay.connections.length;
    const progress: TransferProgress[] = [];
    const again = await inPullCache(() =>
      pullEnvironment({ target: reference, insecure: true, onProgress: (p) => progress.push(p) }),
    );
    expect(again).toMatchObject({ source: "cached", digest: pushed.digest });
    expect(progress).toEqual([]);
    const requests = relay.connections.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(blobGets(requests.map((c) => c.request))).toEqual([]);
    expect(requests.reduce((sum, c) => sum + c.responseBytes, 0)).toBeLessThan(64 * 1024);
  });

  it("fetches only the blobs a second environment does not share with an installed one", async () => {
    const kernel = pushedVariant.layers.find((l) => l.role === "kernel")!;
    const initramfs = pushedVariant.layers.find((l) => l.role === "initramfs")!;
    const rootfs = pushedVariant.layers.find((l) => l.role === "rootfs")!;
    expect(kernel.digest).toBe(pushed.layers[0]?.digest);
    expect(rootfs.digest).not.toBe(pushed.layers[2]?.digest);
    // The first test installed busybox-test in the pull cache; make sure of it here too.
    await inPullCache(() => pullEnvironment({ target: `${registry.host}/test/busybox:1`, insecure: true }));

    const before = relay.connections.length;
    const progress: TransferProgress[] = [];
    const outcome = await inPullCache(() =>
      pullEnvironment({
        target: `${relay.host}/test/variant:1`,
        insecure: true,
        onProgress: (p) => progress.push(p),
      }),
    );
    expect(outcome.source).toBe("registry");
    const total = kernel.size + initramfs.size + rootfs.size;
    expect(progress.at(-1)).toEqual({
      total_bytes: total,
      done_bytes: total,
      cached_bytes: kernel.size + initramfs.size,
      blobs_total: 3,
      blobs_done: 3,
    });
    const fetched = blobGets(relay.connections.slice(before).map((c) => c.request));
    expect(fetched).toContain(rootfs.digest);
    expect(fetched).not.toContain(kernel.digest);
    expect(fetched).not.toContain(initramfs.digest);
    expect(fetched).toHaveLength(2); // the root image layer and the variant's config
    // Shared on disk too: both entries' kernels are the one stored blob.
    const [a, b] = await inPullCache(() =>
      Promise.all([inspectEnvironment(BUSYBOX_ENVIRONMENT), inspectEnvironment(VARIANT)]),
    );
    expect(statSync(a.kernel_image!).ino).toBe(statSync(b.kernel_image!).ino);
    expect(a.rootfs_image).not.toBe(b.rootfs_image);
    expect(await inPullCache(() => verifyEnvironment(VARIANT))).toMatchObject({ ok: true });
  });

  it("refuses a plain container image with a hint to import it", async () => {
    const work = join(temp, "image");
    const layout = join(temp, "layout");
    buildBusyboxImage(work, layout);
    const reference = `${registry.host}/test/plain:1`;
    execFileSync(
      "skopeo",
      ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:app`, `docker://${reference}`],
      { stdio: "ignore" },
    );
    const cache = join(temp, "plain-cache");
    const failure = await withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: cache }, () =>
      failureOf(pullEnvironment({ target: reference, insecure: true })),
    );
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message).toContain(`${reference} is not a pyro environment`);
    expect(failure.hint).toContain(`pyro env import ${reference} --name`);
    expect(installedEntries(cache)).toEqual([]);
    expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
    expect(storedBlobs(cache)).toEqual([]);
  });

  describe("catalog names", () => {
    let noMmdebstrap: string;
    beforeAll(() => {
      noMmdebstrap = pathWithout(["mmdebstrap"]);
    });
    afterAll(() => rmSync(noMmdebstrap, { recursive: true, force: true }));

    /** Pulls a catalog name into a fresh cache with `registry` as PYRO_ENVIRONMENT_REGISTRY. */
    async function pullCatalogName(
      target: string,
      registryText: string | undefined,
      options: Partial<PullOptions> = {},
    ) {
      const cache = mkdtempSync(join(temp, "catalog-"));
      const phases: Array<[string, Record<string, unknown>]> = [];
      const result = await withEnv(
        {
          PYRO_ENVIRONMENT_CACHE_DIR: cache,
          PYRO_ENVIRONMENT_REGISTRY: registryText,
          PYRO_ENVIRONMENT_CATALOG: undefined,
          PATH: noMmdebstrap,
        },
        () =>
          pullEnvironment({
            target,
            onPhase: (phase, detail) => phases.push([phase, { ...detail }]),
            ...options,
          }).then(
            (outcome) => ({ outcome, error: null }),
            (error: unknown) => ({ outcome: null, error }),
          ),
      );
      return { cache, phases, ...result };
    }

    it("refuses an artifact whose environment is not the catalog name it was pulled as", async () => {
      await pushEnvironment({
        name: BUSYBOX_ENVIRONMENT,
        reference: `${registry.host}/pyro/debian:12-base`,
        insecure: true,
      });
      const { cache, error, phases } = await pullCatalogName("debian:12-base", `http://${registry.host}`);
      expect(error).toBeInstanceOf(PyroError);
      expect((error as PyroError).code).toBe("REGISTRY_ERROR");
      expect((error as PyroError).message).toBe(
        `${registry.host}/pyro/debian:12-base holds ${BUSYBOX_ENVIRONMENT}, not debian:12-base.`,
      );
      expect(phases.map(([phase]) => phase)).toEqual(["resolve"]);
      expect(installedEntries(cache)).toEqual([]);
      expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
    });

    it.each([
      ["cannot be reached", "http://127.0.0.1:9", "REGISTRY_UNREACHABLE"],
      ["does not have it", "REGISTRY", "IMAGE_NOT_FOUND"],
      ["no registry is configured", undefined, null],
    ] as const)(
      "falls back to a local build when the registry %s, saying so first",
      async (why, text, code) => {
        const registryText = text === "REGISTRY" ? `http://${registry.host}` : text;
        const { cache, error, phases } = await pullCatalogName("debian:12", registryText);
        // The local build fails for real: no mmdebstrap on PATH.
        expect(error).toBeInstanceOf(PyroError);
        expect((error as PyroError).code).toBe("DEPENDENCY_MISSING");
        expect((error as PyroError).details.missing).toEqual(["mmdebstrap"]);
        const notes = phases.filter(([, detail]) => detail.source === "local-build");
        expect(notes).toHaveLength(1);
        expect(notes[0]![0]).toBe("resolve");
        expect(String(notes[0]![1].note)).toContain(why);
        expect(String(notes[0]![1].note)).toMatch(/; building locally$/);
        // The note is the last thing said: the build stopped before any phase of its own.
        expect(phases.at(-1)).toBe(notes[0]);
        if (code !== null) expect(phases.some(([, detail]) => detail.error === code)).toBe(true);
        expect(installedEntries(cache)).toEqual([]);
        expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
      },
    );
  });
});
