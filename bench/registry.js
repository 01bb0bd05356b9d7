/**
 * Environments through a local registry (Debian's docker-registry on 127.0.0.1): push of debian:12,
 * pull into an empty cache vs `skopeo copy` of the same artifact to a folder, vs a local build
 * (full mode only: it takes a minute or more), import of a container image (OCI layout made with
 * umoci) vs `umoci unpack` of it, and a second pull sharing blobs with the first (bytes fetched).
 * The source environments are the default cache's debian:12 and debian:12-base, hard-linked into a
 * private cache (push writes nothing into the entry it reads).
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { pushEnvironment } from "../dist/environments/artifact/push.js";
import { pullEnvironment } from "../dist/environments/pull-environment.js";
import { importImage } from "../dist/environments/import/import-image.js";
import { environmentCacheDir, environmentPaths } from "../dist/environments/paths.js";
import { startBenchRegistry } from "./registry-server.js";
import { formatMs, median, report, timeRuns } from "./stats.js";

/** What the full bench measured for `pyro env build debian:12` on the dev host (shown in --quick). */
const RECORDED_BUILD = "28 s with a warm package cache, 60-90 s without";

export async function benchRegistry({ quick, home }) {
  const runs = quick ? 2 : 3;
  const sharedCache = environmentCacheDir();
  const work = mkdtempSync(join(home, "registry-"));
  const registry = await startBenchRegistry();
  const saved = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  const useCache = (dir) => {
    mkdirSync(dir, { recursive: true });
    process.env.PYRO_ENVIRONMENT_CACHE_DIR = dir;
  };
  try {
    const source = join(work, "source-cache");
    for (const name of ["debian:12", "debian:12-base"]) linkEntry(sharedCache, source, name);
    const ref = (name) => `${registry.host}/pyro/${name}`;

    useCache(source);
    const pushStarted = performance.now();
    const pushed = await pushEnvironment({ name: "debian:12", reference: ref("debian:12"), insecure: true });
    const pushMs = performance.now() - pushStarted;
    await pushEnvironment({ name: "debian:12-base", reference: ref("debian:12-base"), insecure: true });

    const skopeoDir = join(work, "skopeo");
    const skopeo = median(
      await timeFresh(
        runs,
        () => rmSync(skopeoDir, { recursive: true, force: true }),
        () =>
          execFileSync("skopeo", [
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            `docker://${ref("debian:12")}`,
            `dir:${skopeoDir}`,
          ]),
      ),
    );

    const pullCache = join(work, "pull-cache");
    const pull = median(
      await timeFresh(
        runs,
        () => {
          rmSync(pullCache, { recursive: true, force: true });
          useCache(pullCache);
        },
        async () => {
          const outcome = await pullEnvironment({ target: ref("debian:12"), insecure: true });
          if (outcome.source !== "registry") throw new Error(`pull came from ${outcome.source}`);
        },
      ),
    );

    // Second pull into the same cache: debian:12-base shares blobs with debian:12.
    let fetched = { total: 0, cached: 0 };
    const secondMs = median(
      await timeRuns(1, async () => {
        await pullEnvironment({
          target: ref("debian:12-base"),
          insecure: true,
          onProgress: (p) => {
            fetched = { total: p.total_bytes, cached: p.cached_bytes };
          },
        });
      }),
    );

    const importFigures = await benchImport(work, runs);
    const build = quick ? null : await timeBuild(join(work, "build-cache"), useCache);

    const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
    const rows = [
      [`push debian:12 (${mb(pushed.total_bytes)}, empty registry)`, formatMs(pushMs)],
      ["skopeo copy of the same artifact to a folder (median)", formatMs(skopeo)],
      ["pull debian:12 into an empty cache (median)", formatMs(pull)],
      ["ratio pull / skopeo copy", `${(pull / skopeo).toFixed(2)}x (target <= 1.2x)`],
    ];
    if (build === null) {
      rows.push(["local build of debian:12", `skipped in --quick (last measured ${RECORDED_BUILD})`]);
    } else if (typeof build === "string") {
      rows.push(["local build of debian:12", `could not build: ${build}`]);
    } else {
      rows.push(
        ["local build of debian:12", formatMs(build)],
        ["speed-up pull vs local build", `${(build / pull).toFixed(1)}x (target >= 10x)`],
      );
    }
    rows.push(
      [`import ${importFigures.what} (median)`, formatMs(importFigures.importMs)],
      ["umoci unpack of the same image (median)", formatMs(importFigures.unpackMs)],
      ["ratio import / umoci unpack", `${(importFigures.importMs / importFigures.unpackMs).toFixed(1)}x`],
      ["second pull, debian:12-base after debian:12", formatMs(secondMs)],
      [
        "  bytes fetched / total (shared blobs not fetched)",
        `${mb(fetched.total - fetched.cached)} / ${mb(fetched.total)}`,
      ],
    );
    report("Environments through a local registry (docker-registry on 127.0.0.1)", rows);
  } finally {
    if (saved === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = saved;
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Like timeRuns, with `reset` (not timed) before each run: removing the last copy costs time too. */
async function timeFresh(count, reset, action) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    reset();
    const started = performance.now();
    await action();
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * Links `name`'s installed entry from `fromCache` into `toCache`: the same inodes, so its verified
 * stamp still holds; the stamp file itself is copied, so a rewrite never reaches the shared cache.
 */
function linkEntry(fromCache, toCache, name) {
  const env = { PYRO_ENVIRONMENT_CACHE_DIR: fromCache };
  const from = environmentPaths(name, undefined, env).entryDir;
  const to = environmentPaths(name, undefined, { PYRO_ENVIRONMENT_CACHE_DIR: toCache }).entryDir;
  if (!existsSync(from)) throw new Error(`the bench needs ${name} installed in ${fromCache}`);
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from)) {
    if (file === "verified.json") copyFileSync(join(from, file), join(to, file));
    else linkSync(join(from, file), join(to, file));
  }
}

/** An OCI layout made with umoci: busybox-static plus TypeScript's lib folder (tens of MB, many files). */
async function benchImport(work, runs) {
  const layout = join(work, "layout");
  const bundle = join(work, "bundle");
  execFileSync("umoci", ["init", "--layout", layout]);
  execFileSync("umoci", ["new", "--image", `${layout}:app`]);
  execFileSync("umoci", ["unpack", "--image", `${layout}:app`, bundle]);
  const root = join(bundle, "rootfs");
  for (const dir of ["bin", "sbin", "usr/bin", "usr/sbin"]) mkdirSync(join(root, dir), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  // Applets whose folders the image lacks are skipped (busybox says so on stderr).
  execFileSync("chroot", [root, "/bin/busybox", "--install", "-s"], { stdio: "ignore" });
  cpSync(fileURLToPath(new URL("../node_modules/typescript/lib", import.meta.url)), join(root, "opt/ts"), {
    recursive: true,
    dereference: true,
  });
  execFileSync("umoci", ["repack", "--image", `${layout}:app`, bundle]);
  rmSync(bundle, { recursive: true, force: true });

  const unpackMs = median(
    await timeFresh(
      runs,
      () => rmSync(bundle, { recursive: true, force: true }),
      () => execFileSync("umoci", ["unpack", "--image", `${layout}:app`, bundle]),
    ),
  );
  const bytes = Number(
    execFileSync("du", ["-sb", join(bundle, "rootfs")])
      .toString()
      .split("\t")[0],
  );
  rmSync(bundle, { recursive: true, force: true });
  const importMs = median(
    await timeRuns(runs, () =>
      importImage({ image: `oci:${layout}:app`, name: "bench-import", force: true }),
    ),
  );
  return {
    importMs,
    unpackMs,
    what: `an OCI image (busybox + TypeScript's lib, ${(bytes / 1e6).toFixed(0)} MB unpacked)`,
  };
}

/** A real local build of debian:12 into an empty cache; its time, or why it could not build. */
async function timeBuild(cache, useCache) {
  const { buildEnvironment } = await import("../dist/environments/build.js");
  useCache(cache);
  const started = performance.now();
  try {
    await buildEnvironment("debian:12", { force: true });
    return performance.now() - started;
  } catch (error) {
    return error instanceof Error ? error.message.split("\n")[0] : String(error);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
