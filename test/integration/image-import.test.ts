import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEnvironment } from "../../src/environments/index.js";
import { importImage } from "../../src/environments/import/index.js";
import type { InstalledEnvironment } from "../../src/environments/installed.js";
import { PyroError } from "../../src/errors/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { buildBusyboxImage, debugfs, layoutDigest, sharedKernelDonor } from "../helpers/oci-images.js";

const execFileAsync = promisify(execFile);

let work: string;
let layout: string;
let donor: InstalledEnvironment;
let imported: InstalledEnvironment;
const phases: string[] = [];
let installedDetail: Record<string, string | number> | undefined;
const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;

beforeAll(async () => {
  donor = sharedKernelDonor();
  work = await mkdtemp(join(tmpdir(), "pyro-import-"));
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = join(work, "cache");
  layout = join(work, "layout");
  buildBusyboxImage(work, layout);
  imported = await importImage({
    image: `oci:${layout}:app`,
    name: "busybox:test",
    kernelFrom: donor,
    onPhase: (phase, detail) => {
      phases.push(phase);
      if (phase === "installed") installedDetail = detail;
    },
  });
}, 120_000);

afterAll(async () => {
  if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
  await rm(work, { recursive: true, force: true });
});

/** `debugfs ls -p` of a directory: its names. */
function namesIn(dir: string): string[] {
  return debugfs(imported.rootfsPath, `ls -p ${dir}`)
    .split("\n")
    .map((line) => line.split("/")[5])
    .filter((name): name is string => name !== undefined && name !== "" && name !== "." && name !== "..");
}

/** `debugfs stat` of a path: mode (octal string), uid, gid, and a fast link's target. */
function inode(path: string): { type: string; mode: string; uid: number; gid: number; link: string | null } {
  const out = debugfs(imported.rootfsPath, `stat ${path}`);
  const mode = /Type: (\w+)\s+Mode:\s+(\d+)/.exec(out);
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  const link = /Fast link dest: "([^"]*)"/.exec(out);
  if (!mode || !owner) throw new Error(`no inode for ${path}: ${out}`);
  return {
    type: mode[1] ?? "",
    mode: mode[2] ?? "",
    uid: Number(owner[1]),
    gid: Number(owner[2]),
    link: link?.[1] ?? null,
  };
}

describe("importing a multi-layer busybox image from an OCI layout (umoci)", () => {
  it("reports every phase and installs a verified entry", async () => {
    expect(phases).toEqual(["resolve", "fetch", "unpack", "image", "kernel", "manifest", "installed"]);
    expect(Number(installedDetail?.entries)).toBeGreaterThan(250);
    expect(Number(installedDetail?.bytes)).toBeGreaterThan(1_000_000);
    expect(installedDetail?.skipped).toBe(1); // the FIFO
    const state = await checkEnvironment("busybox:test");
    expect(state.status).toBe("installed");
    expect(readdirSync(join(work, "cache", "busybox_test"))).toEqual(["current"]);
  });

  it("keeps the image config and records where it came from", () => {
    const { manifest } = imported;
    expect(manifest.source).toBe("import");
    expect(manifest.image).toEqual({
      env: expect.arrayContaining(["GREETING=hello world"]) as string[],
      working_dir: "/home/app",
      user: { spec: "app", uid: 1000, gid: 1000 },
      entrypoint: ["/bin/sh"],
      cmd: ["-c", "id -u"],
    });
    expect(manifest.provenance).toEqual({
      kind: "imported",
      reference: `oci:${layout}:app`,
      manifest_digest: layoutDigest(layout, "app"),
      kernel_from: `${donor.name}@sha256:${donor.manifest.files.kernel.sha256}`,
    });
    expect(manifest.files.kernel.sha256).toBe(donor.manifest.files.kernel.sha256);
    expect(manifest.files.initramfs.sha256).toBe(donor.manifest.files.initramfs.sha256);
    expect(manifest.kernel_release).toBe(donor.kernelRelease);
  });

  it("applies whiteouts and opaque directories layer by layer", () => {
    expect(namesIn("/etc")).not.toContain("motd");
    expect(namesIn("/opt/data")).toEqual(["new.txt"]);
    expect(namesIn("/opt/keep")).toEqual(["fresh.txt"]);
    expect(namesIn("/opt")).not.toContain("fifo");
    expect(debugfs(imported.rootfsPath, "cat /opt/keep/fresh.txt")).toBe("fresh\n");
  });

  it("keeps symlinks as links, modes, owners and hard links", () => {
    expect(inode("/bin/sh")).toMatchObject({ type: "symlink", link: "/bin/busybox" });
    expect(inode("/bin/busybox")).toMatchObject({ type: "regular", mode: "0755", uid: 0 });
    expect(inode("/home/app")).toMatchObject({ type: "directory", uid: 1000, gid: 1000 });
    expect(inode("/opt/setuid-tool")).toMatchObject({ mode: "04755" });
    const first = /Inode: (\d+)/.exec(debugfs(imported.rootfsPath, "stat /opt/setuid-tool"))?.[1];
    const second = /Inode: (\d+)/.exec(debugfs(imported.rootfsPath, "stat /opt/hardlinked"))?.[1];
    expect(first).toBeDefined();
    expect(second).toBe(first);
  });

  it("adds what pyro's guests expect", () => {
    expect(namesIn("/")).toEqual(expect.arrayContaining(["workspace", "dev", "proc", "sys", "tmp", "run"]));
    expect(debugfs(imported.rootfsPath, "cat /etc/hostname")).toBe("pyro\n");
    expect(debugfs(imported.rootfsPath, "cat /etc/resolv.conf")).toBe("");
    expect(debugfs(imported.rootfsPath, "cat /etc/hosts")).toContain("127.0.1.1\tpyro");
  });

  it("makes a root image of at least 1 GiB", () => {
    expect(debugfs(imported.rootfsPath, "stats")).toMatch(/Block count:\s+262144\b/);
  });

  it("refuses a catalog name, an existing import without force, and an unknown tag", async () => {
    const attempt = (name: string, image = `oci:${layout}:app`) =>
      importImage({ image, name, kernelFrom: donor }).then(
        () => null,
        (error: unknown) => error,
      );
    expect(await attempt("debian:12")).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await attempt("busybox:test")).toMatchObject({ code: "INVALID_ARGUMENT" });
    const replaced = await importImage({
      image: `oci:${layout}:app`,
      name: "busybox:test",
      kernelFrom: donor,
      force: true,
    });
    expect(replaced.manifest.built_at > imported.manifest.built_at).toBe(true);
    expect((await checkEnvironment("busybox:test")).status).toBe("installed");
    process.env.PYRO_IMPORT_KERNEL_DIR = work;
    try {
      const noDonor = await importImage({ image: `oci:${layout}:app`, name: "busybox:other" }).catch(
        (e: unknown) => e,
      );
      expect(noDonor).toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringMatching(/PYRO_IMPORT_KERNEL_DIR/),
      });
    } finally {
      delete process.env.PYRO_IMPORT_KERNEL_DIR;
    }
    const missing = await attempt("busybox:other", `oci:${layout}:nope`);
    expect(missing).toBeInstanceOf(PyroError);
    expect(missing).toMatchObject({ code: "IMAGE_NOT_FOUND" });
    expect(existsSync(join(work, "cache", "busybox_other", "current"))).toBe(false);
  });
});

describe("importing the same image from a registry, in OCI and Docker formats", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  }, 60_000);

  afterAll(async () => {
    await registry.stop();
  });

  /** Pushes the layout's image with skopeo; returns the pushed manifest's digest. */
  function push(tag: string, format: "oci" | "v2s2"): string {
    const digestFile = join(work, `${tag}.digest`);
    execFileSync("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      `--format=${format}`,
      `--digestfile=${digestFile}`,
      `oci:${layout}:app`,
      `docker://${registry.host}/imports/busybox:${tag}`,
    ]);
    return readFileSync(digestFile, "utf8").trim();
  }

  for (const format of ["oci", "v2s2"] as const) {
    it(`imports ${format === "oci" ? "OCI" : "Docker"} media types with the same tree and config`, async () => {
      const digest = push(format, format);
      const reference = `${registry.host}/imports/busybox:${format}`;
      const raw = JSON.parse(
        execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`], {
          encoding: "utf8",
        }),
      ) as { mediaType: string; layers: Array<{ mediaType: string }> };
      expect(raw.layers[0]?.mediaType).toBe(
        format === "oci"
          ? "application/vnd.oci.image.layer.v1.tar+gzip"
          : "application/vnd.docker.image.rootfs.diff.tar.gzip",
      );
      const fromRegistry = await importImage({
        image: reference,
        name: `busybox:${format}`,
        insecure: true,
        credentials: null,
        kernelFrom: donor,
      });
      expect(fromRegistry.manifest.provenance).toMatchObject({
        kind: "imported",
        reference,
        manifest_digest: digest,
      });
      expect(fromRegistry.manifest.image).toEqual(imported.manifest.image);
      const listing = (image: string, dir: string): string =>
        debugfs(image, `ls -p ${dir}`).replace(/^\/\d+\//gm, "/");
      for (const dir of ["/", "/etc", "/opt/data", "/opt/keep", "/bin"]) {
        expect(listing(fromRegistry.rootfsPath, dir), dir).toBe(listing(imported.rootfsPath, dir));
      }
    });
  }
});

describe("importing from a registry that demands a token", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ tokenAuth: true });
  }, 60_000);

  afterAll(async () => {
    await registry.stop();
  });

  it("fails without credentials and imports with them", async () => {
    const token = registry.token;
    if (!token) throw new Error("the registry has no token credentials");
    const reference = `${registry.host}/private/busybox:1`;
    // Asynchronously: the token server skopeo asks runs in this process.
    await execFileAsync("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      `--dest-creds=${token.username}:${token.password}`,
      `oci:${layout}:app`,
      `docker://${reference}`,
    ]);
    const denied = await importImage({
      image: reference,
      name: "private:1",
      insecure: true,
      kernelFrom: donor,
    }).catch((error: unknown) => error);
    expect(denied).toMatchObject({ code: "REGISTRY_AUTH_FAILED" });
    expect(existsSync(join(work, "cache", "private_1"))).toBe(false);
    const allowed = await importImage({
      image: reference,
      name: "private:1",
      insecure: true,
      credentials: token,
      kernelFrom: donor,
    });
    expect(allowed.manifest.image).toEqual(imported.manifest.image);
  });
});
