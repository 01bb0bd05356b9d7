import { copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifest } from "../../src/environments/manifest.js";
import { environmentCacheDir, environmentPaths } from "../../src/environments/paths.js";
import { stampVerified } from "../../src/environments/verify.js";
import { findExecutable } from "../../src/platform/find-executable.js";
import { runPyro } from "../helpers/cli.js";
import { cacheLeftovers } from "../helpers/environment-cache.js";
import { pathWithout } from "../helpers/path-without.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { installedGuestKernel } from "./guest-env.js";

/** Every file under `dir` with its size, mode, link-free identity and mtime: to prove nothing changed. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .sort()
    .map((path) => {
      const stats = lstatSync(join(dir, path));
      return `${path} ${stats.size} ${stats.mode.toString(8)} ${stats.ino} ${stats.mtimeMs}`;
    });
}

/**
 * The "done means": with a registry holding debian:12, `pyro env pull debian:12 && pyro
 * run debian:12 -- git --version` works on a host whose cache is empty and that has no mmdebstrap.
 * The artifact is pushed from a copy of the shared cache's debian:12 (the root image hard-linked,
 * only read; kernel and initramfs copied, since a push makes the files it stores read-only), so
 * the shared cache is left exactly as it was.
 */
describe("env pull debian:12 from a registry, then run in it, without mmdebstrap", () => {
  let registry: TestRegistry;
  let home: ReturnType<typeof useTempPyroHome>;
  let guestKernel: string;
  let noMmdebstrap: string;
  let sharedBefore: string[];
  const sharedCache = environmentCacheDir({ ...process.env, PYRO_ENVIRONMENT_CACHE_DIR: "" });
  const temp = mkdtempSync("/tmp/pyro-t-registry-debian-");
  const pushCache = join(temp, "push-cache");
  const pullCache = join(temp, "pull-cache");

  beforeAll(async () => {
    guestKernel = await installedGuestKernel();
    sharedBefore = snapshot(sharedCache);
    registry = await startRegistry();
    home = useTempPyroHome();
    noMmdebstrap = pathWithout(["mmdebstrap"]);

    const shared = environmentPaths("debian:12", undefined, { PYRO_ENVIRONMENT_CACHE_DIR: sharedCache });
    const copy = environmentPaths("debian:12", undefined, { PYRO_ENVIRONMENT_CACHE_DIR: pushCache });
    const manifest = readManifest(shared.entryDir);
    mkdirSync(copy.entryDir, { recursive: true });
    copyFileSync(join(shared.entryDir, "manifest.json"), join(copy.entryDir, "manifest.json"));
    copyFileSync(
      join(shared.entryDir, manifest.files.kernel.path),
      join(copy.entryDir, manifest.files.kernel.path),
    );
    copyFileSync(
      join(shared.entryDir, manifest.files.initramfs.path),
      join(copy.entryDir, manifest.files.initramfs.path),
    );
    linkSync(
      join(shared.entryDir, manifest.files.rootfs.path),
      join(copy.entryDir, manifest.files.rootfs.path),
    );
    // Byte copies of a verified entry: spare the push a re-hash of the 2 GiB root image.
    await stampVerified(copy.entryDir, manifest);
  });
  afterAll(async () => {
    await registry?.stop();
    home?.cleanup();
    rmSync(temp, { recursive: true, force: true });
    if (noMmdebstrap) rmSync(noMmdebstrap, { recursive: true, force: true });
  });

  it("pushes debian:12, pulls it into an empty cache by catalog name, and runs git in the guest", async () => {
    const reference = `${registry.host}/pyro/debian:12`;
    const started = Date.now();
    const pushed = await runPyro(["env", "push", "debian:12", reference, "--insecure", "--json"], {
      PYRO_ENVIRONMENT_CACHE_DIR: pushCache,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const push = JSON.parse(pushed.stdout) as { digest: string; uploaded_bytes: number };
    const pushMs = Date.now() - started;

    const env = {
      PYRO_ENVIRONMENT_CACHE_DIR: pullCache,
      PYRO_ENVIRONMENT_REGISTRY: `http://${registry.host}`,
      PYRO_ENVIRONMENT_CATALOG: undefined,
      PATH: noMmdebstrap,
    };
    expect(findExecutable("mmdebstrap", env)).toBeNull();
    expect(findExecutable("qemu-system-x86_64", env)).not.toBeNull();

    const pullStarted = Date.now();
    const pulled = await runPyro(["env", "pull", "debian:12", "--json"], env);
    expect(pulled.code, pulled.stderr).toBe(0);
    const pullMs = Date.now() - pullStarted;
    const details = JSON.parse(pulled.stdout) as {
      install_dir: string;
      provenance: unknown;
      pull: { source: string; reference: string; digest: string; note: string | null };
    };
    expect(details.pull).toEqual({ source: "registry", reference, digest: push.digest, note: null });
    expect(details.provenance).toEqual({ kind: "pulled", reference, manifest_digest: push.digest });
    expect(details.install_dir.startsWith(pullCache)).toBe(true);
    expect(cacheLeftovers(pullCache)).toEqual({ staging: [], partial: [] });

    const ran = await runPyro(["run", "debian:12", "--", "git --version; uname -r"], env);
    expect(ran.code, ran.stderr).toBe(0);
    const [git, kernel] = ran.stdout.trim().split("\n");
    expect(git).toMatch(/^git version 2\.\d+/);
    expect(kernel).toBe(guestKernel);
    expect(kernel).not.toBe(release());
    expect(ran.stderr).toMatch(/\[run\] environment=debian:12 execution_mode=guest_serial/);

    // The shared cache is as it was: nothing written, linked in or made read-only there.
    expect(snapshot(sharedCache)).toEqual(sharedBefore);
    console.log(
      `push ${pushMs} ms (${push.uploaded_bytes} bytes uploaded), pull ${pullMs} ms, run ${Date.now() - pullStarted - pullMs} ms`,
    );
  });
});
