import { execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PyroError } from "../../src/errors/index.js";
import {
  checkEnvironment,
  inspectEnvironment,
  installEntry,
  makeStaging,
  type InstalledEnvironment,
} from "../../src/environments/index.js";
import { fileSystemSafeName, STAGING_PREFIX } from "../../src/environments/paths.js";
import { pruneEnvironments } from "../../src/environments/prune.js";
import { sha256File } from "../../src/platform/file-digest.js";
import { pushEnvironment, type PushResult } from "../../src/environments/artifact/push.js";
import { pullEnvironment, type PullOptions } from "../../src/environments/pull-environment.js";
import { verifyEnvironment } from "../../src/environments/verify-environment.js";
import { BUSYBOX_ENVIRONMENT, installBusyboxEnvironment } from "../helpers/busybox-environment.js";
import { spawnPyro } from "../helpers/cli.js";
import { cacheLeftovers, installedEntries, storedBlobs, withEnv } from "../helpers/environment-cache.js";
import { registryDataFile, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startRelay, type TcpRelay } from "../helpers/tcp-relay.js";
import { failureOf } from "../helpers/failure.js";

const MiB = 1024 * 1024;
const BIG = "busybox-big";

/** `from` with its root image grown to 256 MiB (sparse): unpacking it takes long enough to be interrupted. */
async function installBig(from: InstalledEnvironment, name = BIG): Promise<void> {
  const staging = await makeStaging(name);
  linkSync(from.kernelPath, join(staging, from.manifest.files.kernel.path));
  linkSync(from.initramfsPath, join(staging, from.manifest.files.initramfs.path));
  const rootfs = join(staging, from.manifest.files.rootfs.path);
  execFileSync("cp", ["--sparse=always", from.rootfsPath, rootfs]);
  execFileSync("truncate", ["-s", "256M", rootfs]);
  const files = {
    ...from.manifest.files,
    rootfs: { ...from.manifest.files.rootfs, sha256: await sha256File(rootfs), size: statSync(rootfs).size },
  };
  writeFileSync(join(staging, "manifest.json"), JSON.stringify({ ...from.manifest, name, files }));
  await installEntry(staging, name);
}

/**
 * Pulls from a registry that misbehaves (tampered bytes, cut connections, a crash, bad
 * credentials): each failure is a clear error and leaves no entry and no staging folder; only
 * downloads kept to be resumed stay, in blobs/.partial, and the next pull finishes the job.
 */
describe("environment pull faults against a real registry", () => {
  let registry: TestRegistry;
  let relay: TcpRelay;
  let cleanupBusybox: () => void;
  let sourceCache: string;
  let pushed: PushResult;
  const temp = mkdtempSync("/tmp/pyro-env-faults-");
  const freshCache = (): string => mkdtempSync(join(temp, "cache-"));
  const pullInto = (cache: string, options: PullOptions) =>
    withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: cache }, () => pullEnvironment(options));
  const inCache = <T>(cache: string, fn: () => Promise<T>) =>
    withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: cache }, fn);
  const layer = (role: string) => pushed.layers.find((l) => l.role === role)!;
  const hexOf = (digest: string) => digest.slice("sha256:".length);

  /** Nothing installed and nothing staged; returns what stays in blobs/.partial. */
  function expectNothingInstalled(cache: string): string[] {
    expect(installedEntries(cache)).toEqual([]);
    const leftovers = cacheLeftovers(cache);
    expect(leftovers.staging).toEqual([]);
    // Partial downloads only: no lock or scratch file stays behind.
    for (const name of leftovers.partial) expect(name).toMatch(/^[0-9a-f]{64}$/);
    return leftovers.partial;
  }

  /** The pull finished: the entry verifies, its files equal what was pushed, nothing is left over. */
  async function expectInstalled(cache: string): Promise<void> {
    const details = await inCache(cache, () => inspectEnvironment(BUSYBOX_ENVIRONMENT));
    expect(details.provenance).toMatchObject({ kind: "pulled", manifest_digest: pushed.digest });
    expect(await inCache(cache, () => verifyEnvironment(BUSYBOX_ENVIRONMENT))).toMatchObject({ ok: true });
    expect(details.artifacts.find((a) => a.role === "kernel")?.sha256).toBe(hexOf(layer("kernel").digest));
    expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
  }

  beforeAll(async () => {
    registry = await startRegistry();
    relay = await startRelay(registry.host);
    const busybox = await installBusyboxEnvironment();
    cleanupBusybox = busybox.cleanup;
    sourceCache = busybox.cacheDir;
    const state = await checkEnvironment(BUSYBOX_ENVIRONMENT);
    if (state.status !== "installed") throw new Error("the busybox environment did not install");
    // Copies instead of hard links into the shared cache: a push makes the files it adds read-only.
    for (const path of [state.environment.kernelPath, state.environment.initramfsPath]) {
      copyFileSync(path, `${path}.copy`);
      renameSync(`${path}.copy`, path);
    }
    pushed = await pushEnvironment({
      name: BUSYBOX_ENVIRONMENT,
      reference: `${registry.host}/faults/busybox:1`,
      insecure: true,
    });
  });
  afterAll(async () => {
    await relay?.close();
    await registry?.stop();
    cleanupBusybox?.();
    rmSync(temp, { recursive: true, force: true });
  });

  it("removes what a pull killed mid-install left behind when the next pull of that name installs", async () => {
    await withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: sourceCache }, async () => {
      const state = await checkEnvironment(BUSYBOX_ENVIRONMENT);
      if (state.status !== "installed") throw new Error("the busybox environment is gone");
      await installBig(state.environment);
      await pushEnvironment({ name: BIG, reference: `${registry.host}/faults/big:1`, insecure: true });
    });
    const cache = freshCache();
    const root = join(cache, BIG);
    const stagingOf = (): string[] =>
      existsSync(root) ? readdirSync(root).filter((name) => name.startsWith(STAGING_PREFIX)) : [];
    const target = `${registry.host}/faults/big:1`;
    const child = spawnPyro(["env", "pull", target, "--insecure"], { PYRO_ENVIRONMENT_CACHE_DIR: cache });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Killed while it writes the 256 MiB root image into its staging folder.
    const deadline = Date.now() + 30_000;
    while (stagingOf().length === 0 && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill("SIGKILL");
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(installedEntries(cache)).toEqual([]);
    const left = stagingOf();
    expect(left).toHaveLength(1);

    // A staging folder of a process still alive (a pull in progress, as far as anyone can tell) stays.
    const live = spawn("sleep", ["60"], { stdio: "ignore" });
    const liveStaging = join(root, `${STAGING_PREFIX}${live.pid}-busy`);
    mkdirSync(liveStaging);
    try {
      const outcome = await pullInto(cache, { target, insecure: true });
      expect(outcome.source).toBe("registry");
      expect(installedEntries(cache)).toEqual([`${BIG}/current`]);
      expect(stagingOf()).toEqual([`${STAGING_PREFIX}${live.pid}-busy`]);
    } finally {
      live.kill("SIGKILL");
    }
    rmSync(liveStaging, { recursive: true });
    expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
  });

  it("leaves a pull in progress alone when `env prune` runs meanwhile", async () => {
    // A catalog name: prune only visits those.
    const name = "debian:12-base";
    await withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: sourceCache }, async () => {
      const state = await checkEnvironment(BUSYBOX_ENVIRONMENT);
      if (state.status !== "installed") throw new Error("the busybox environment is gone");
      await installBig(state.environment, name);
      await pushEnvironment({ name, reference: `${registry.host}/pyro/debian:12-base`, insecure: true });
    });
    const cache = freshCache();
    const root = join(cache, fileSystemSafeName(name));
    const stagingOf = (): string[] =>
      existsSync(root) ? readdirSync(root).filter((entry) => entry.startsWith(STAGING_PREFIX)) : [];
    const child = spawnPyro(["env", "pull", name], {
      PYRO_ENVIRONMENT_CACHE_DIR: cache,
      PYRO_ENVIRONMENT_REGISTRY: `http://${registry.host}`,
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (stagingOf().length === 0 && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(stagingOf()).toHaveLength(1);
    const report = await withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: cache }, () => pruneEnvironments());
    expect(report.removed.filter((item) => item.path.includes(STAGING_PREFIX))).toEqual([]);
    expect(await exited, stderr).toBe(0);
    const details = await inCache(cache, () => inspectEnvironment(name));
    expect(details.provenance).toMatchObject({ kind: "pulled" });
    expect(cacheLeftovers(cache)).toEqual({ staging: [], partial: [] });
  });

  it("reports an unknown reference as IMAGE_NOT_FOUND and fetches nothing", async () => {
    for (const target of [`${registry.host}/faults/none:1`, `${registry.host}/faults/busybox:no-such-tag`]) {
      const cache = freshCache();
      const failure = await failureOf(pullInto(cache, { target, insecure: true }));
      expect(failure.code, target).toBe("IMAGE_NOT_FOUND");
      expect(failure.message).toContain(target.slice(target.indexOf("/") + 1).split(":")[0]);
      expect(expectNothingInstalled(cache)).toEqual([]);
      expect(storedBlobs(cache)).toEqual([]);
    }
  });

  it("discards a root image layer the registry serves tampered (DIGEST_MISMATCH), then pulls the sound one", async () => {
    const rootfs = layer("rootfs");
    const dataFile = registryDataFile(registry, rootfs.digest);
    const original = readFileSync(dataFile);
    const tampered = Buffer.from(original);
    const at = Math.floor(tampered.length / 2);
    tampered[at] = (tampered[at] as number) ^ 0xff;
    const cache = freshCache();
    writeFileSync(dataFile, tampered);
    let failure: PyroError;
    try {
      failure = await failureOf(
        pullInto(cache, { target: `${registry.host}/faults/busybox:1`, insecure: true }),
      );
    } finally {
      writeFileSync(dataFile, original);
    }
    expect(failure.code).toBe("DIGEST_MISMATCH");
    expect(failure.message).toContain(rootfs.digest);
    const partial = expectNothingInstalled(cache);
    // The bad bytes are gone, neither stored nor kept to resume.
    expect(partial).not.toContain(hexOf(rootfs.digest));
    expect(storedBlobs(cache)).not.toContain(hexOf(rootfs.digest));

    const outcome = await pullInto(cache, { target: `${registry.host}/faults/busybox:1`, insecure: true });
    expect(outcome.source).toBe("registry");
    await expectInstalled(cache);
  });

  it("keeps a download cut mid-transfer as a partial and resumes it on the next pull", async () => {
    const cache = freshCache();
    const target = `${relay.host}/faults/busybox:1`;
    const before = relay.connections.length;
    const failure = await failureOf(
      pullInto(cache, {
        target,
        insecure: true,
        // The first layer connection after the small manifest and config ones is cut.
        onPhase: (phase) => {
          if (phase === "fetch") relay.rules.cutNextAfter = 256 * 1024;
        },
      }),
    );
    relay.rules.cutNextAfter = null;
    expect(failure.code).toBe("REGISTRY_UNREACHABLE");
    expect(failure.message).toMatch(/stopped after \d+ of \d+ bytes/);
    expect(failure.hint).toContain("resume");
    const partial = expectNothingInstalled(cache);
    expect(partial.length).toBeGreaterThan(0);

    const retryFrom = relay.connections.length;
    expect(retryFrom).toBeGreaterThan(before);
    const outcome = await pullInto(cache, { target, insecure: true });
    expect(outcome.source).toBe("registry");
    const retried = relay.connections.slice(retryFrom).map((c) => c.request.toLowerCase());
    expect(retried.some((request) => /\r\nrange: bytes=[1-9]\d*-/.test(request))).toBe(true);
    await expectInstalled(cache);
  });

  it("reports a registry that dies mid-pull as REGISTRY_UNREACHABLE and completes once it is back", async () => {
    const cache = freshCache();
    const target = `${relay.host}/faults/busybox:1`;
    // A slow link, so the registry is still sending the kernel when it dies.
    relay.rules.bytesPerSecond = 8 * MiB;
    let crashed: Promise<void> | null = null;
    let failure: PyroError;
    try {
      failure = await failureOf(
        pullInto(cache, {
          target,
          insecure: true,
          onProgress: (p) => {
            if (p.done_bytes - p.cached_bytes >= 4 * MiB) crashed ??= registry.crash();
          },
        }),
      );
      await crashed;
    } finally {
      relay.rules.bytesPerSecond = null;
    }
    expect(crashed).not.toBeNull();
    expect(failure.code).toBe("REGISTRY_UNREACHABLE");
    expect(expectNothingInstalled(cache).length).toBeGreaterThan(0);

    // While it is down: the same clear error, nothing installed.
    const down = await failureOf(pullInto(cache, { target, insecure: true }));
    expect(down.code).toBe("REGISTRY_UNREACHABLE");
    expectNothingInstalled(cache);

    await registry.restart();
    const outcome = await pullInto(cache, { target, insecure: true });
    expect(outcome.source).toBe("registry");
    await expectInstalled(cache);
  });

  describe("a registry with token auth", () => {
    let secured: TestRegistry;
    let right: { username: string; password: string };
    const wrong = () => ({ username: right.username, password: `${right.password}-wrong` });
    const dockerConfig = (credentials: { username: string; password: string }): string => {
      const dir = mkdtempSync(join(temp, "docker-config-"));
      const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
      writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [secured.host]: { auth } } }));
      return dir;
    };
    const noDockerConfig = join(temp, "no-docker-config");

    beforeAll(async () => {
      secured = await startRegistry({ tokenAuth: true });
      right = secured.token!;
      mkdirSync(noDockerConfig);
    });
    afterAll(async () => {
      await secured?.stop();
    });

    const push = (tag: string, credentials: PullOptions["credentials"]) =>
      withEnv({ PYRO_ENVIRONMENT_CACHE_DIR: sourceCache }, () =>
        pushEnvironment({
          name: BUSYBOX_ENVIRONMENT,
          reference: `${secured.host}/auth/busybox:${tag}`,
          insecure: true,
          credentials,
        }),
      );

    it("refuses wrong or missing credentials with REGISTRY_AUTH_FAILED, for push and pull", async () => {
      await withEnv({ DOCKER_CONFIG: noDockerConfig }, async () => {
        for (const credentials of [wrong(), null]) {
          const failure = await failureOf(push("1", credentials));
          expect(failure.code, JSON.stringify(credentials)).toBe("REGISTRY_AUTH_FAILED");
        }
        expect(cacheLeftovers(sourceCache)).toEqual({ staging: [], partial: [] });
        await push("1", right);
        for (const credentials of [wrong(), null]) {
          const cache = freshCache();
          const failure = await failureOf(
            pullInto(cache, { target: `${secured.host}/auth/busybox:1`, insecure: true, credentials }),
          );
          expect(failure.code).toBe("REGISTRY_AUTH_FAILED");
          expect(expectNothingInstalled(cache)).toEqual([]);
          expect(storedBlobs(cache)).toEqual([]);
        }
      });
      await withEnv({ DOCKER_CONFIG: dockerConfig(wrong()) }, async () => {
        const cache = freshCache();
        const failure = await failureOf(
          pullInto(cache, { target: `${secured.host}/auth/busybox:1`, insecure: true }),
        );
        expect(failure.code).toBe("REGISTRY_AUTH_FAILED");
        expectNothingInstalled(cache);
      });
    });

    it("pushes and pulls with a username and password, and with a Docker config file", async () => {
      await withEnv({ DOCKER_CONFIG: noDockerConfig }, async () => {
        const result = await push("explicit", right);
        expect(result.digest).toBe(pushed.digest);
        const cache = freshCache();
        const outcome = await pullInto(cache, {
          target: `${secured.host}/auth/busybox:explicit`,
          insecure: true,
          credentials: right,
        });
        expect(outcome).toMatchObject({ source: "registry", digest: pushed.digest });
        await expectInstalled(cache);
      });
      await withEnv({ DOCKER_CONFIG: dockerConfig(right) }, async () => {
        const result = await push("from-config", null);
        expect(result.digest).toBe(pushed.digest);
        const cache = freshCache();
        const outcome = await pullInto(cache, {
          target: `${secured.host}/auth/busybox:from-config`,
          insecure: true,
        });
        expect(outcome).toMatchObject({ source: "registry", digest: pushed.digest });
        await expectInstalled(cache);
      });
    });
  });
});
