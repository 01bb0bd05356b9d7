import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import {
  BlobStore,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  RegistryClient,
  type Descriptor,
  type TransferProgress,
} from "../../src/environments/oci/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

const digestOf = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const blob = (bytes: Buffer, mediaType = "application/octet-stream"): Descriptor => ({
  mediaType,
  digest: digestOf(bytes),
  size: bytes.length,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PyroError);
    return (error as PyroError).code;
  }
  return "no error";
}

/** Pushes config + layers and a manifest naming them; returns the manifest's digest and its parts. */
async function pushImage(
  client: RegistryClient,
  repository: string,
  tag: string,
  layers: Buffer[],
  arch = "amd64",
) {
  const config = Buffer.from(
    JSON.stringify({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const configDescriptor = blob(config, "application/vnd.oci.image.config.v1+json");
  const layerDescriptors = layers.map((bytes) => blob(bytes, "application/vnd.oci.image.layer.v1.tar"));
  for (const [bytes, descriptor] of [
    [config, configDescriptor],
    ...layers.map((bytes, i) => [bytes, layerDescriptors[i]] as const),
  ] as const) {
    await client.pushBlob(repository, descriptor!, () => Readable.from([bytes]));
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configDescriptor,
      layers: layerDescriptors,
    }),
  );
  const digest = await client.putManifest(repository, tag, manifest, OCI_MANIFEST);
  return { digest, manifest, config, configDescriptor, layerDescriptors };
}

describe("registry client against a real docker-registry", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  const temp = mkdtempSync("/tmp/pyro-oci-");
  const small = randomBytes(300_000);
  // Larger than one upload chunk: pushed in PATCH requests.
  const large = randomBytes(40 * 1024 * 1024 + 12_345);

  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient(registry.host, { insecure: true, env: {} });
  });
  afterAll(async () => {
    await registry.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it("pushes blobs and a manifest, resolves it by tag and by digest, and fetches verified blobs", async () => {
    const pushed = await pushImage(client, "pyro/app", "v1", [small, large]);
    expect(pushed.digest).toBe(digestOf(pushed.manifest));

    const byTag = await client.resolveManifest("pyro/app", "v1");
    expect(byTag.digest).toBe(pushed.digest);
    expect(byTag.mediaType).toBe(OCI_MANIFEST);
    expect(byTag.bytes.equals(pushed.manifest)).toBe(true);
    expect(byTag.manifest.layers.map((l) => l.digest)).toEqual(pushed.layerDescriptors.map((l) => l.digest));
    const byDigest = await client.resolveManifest("pyro/app", pushed.digest);
    expect(byDigest.digest).toBe(pushed.digest);

    const store = new BlobStore(join(temp, "cache-a"));
    const reports: TransferProgress[] = [];
    const wanted = [byTag.manifest.config, ...byTag.manifest.layers];
    await store.fetchAll(client, "pyro/app", wanted, { onProgress: (p) => reports.push(p) });
    for (const [bytes, descriptor] of [
      [pushed.config, pushed.configDescriptor],
      [small, pushed.layerDescriptors[0]!],
      [large, pushed.layerDescriptors[1]!],
    ] as const) {
      const path = store.pathOf(descriptor.digest);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o444);
    }
    const total = pushed.config.length + small.length + large.length;
    expect(reports.at(-1)).toEqual({
      total_bytes: total,
      done_bytes: total,
      cached_bytes: 0,
      blobs_total: 3,
      blobs_done: 3,
    });
    // Throttled: a 40 MiB local download does not report per chunk.
    expect(reports.length).toBeLessThan(60);

    // A second fetch needs no registry at all: every blob is present.
    const gone = new RegistryClient("127.0.0.1:9", { insecure: true, env: {} });
    const again: TransferProgress[] = [];
    await store.fetchAll(gone, "pyro/app", wanted, { onProgress: (p) => again.push(p) });
    expect(again.at(-1)).toMatchObject({ cached_bytes: total, done_bytes: total, blobs_done: 3 });
  });

  it("fetches only the blobs a store lacks, and skips pushing blobs the registry has", async () => {
    const extra = randomBytes(50_000);
    let opened = 0;
    await client.pushBlob("pyro/app", blob(small), () => {
      opened++;
      return Readable.from([small]);
    });
    expect(opened).toBe(0);
    const pushed = await pushImage(client, "pyro/app", "v2", [small, extra]);
    const store = new BlobStore(join(temp, "cache-b"));
    await store.addBytes(small, "application/vnd.oci.image.layer.v1.tar");
    const reports: TransferProgress[] = [];
    const { manifest } = await client.resolveManifest("pyro/app", "v2");
    await store.fetchAll(client, "pyro/app", [manifest.config, ...manifest.layers], {
      onProgress: (p) => reports.push(p),
    });
    expect(reports[0]).toMatchObject({ cached_bytes: small.length, blobs_done: 1, blobs_total: 3 });
    expect(reports.at(-1)).toMatchObject({ cached_bytes: small.length, blobs_done: 3 });
    expect(readFileSync(store.pathOf(pushed.layerDescriptors[1]!.digest)).equals(extra)).toBe(true);
  });

  it("adds local files by hard link or copy, and bytes, under their digest", async () => {
    const store = new BlobStore(join(temp, "cache-c"));
    const file = join(temp, "kernel");
    const bytes = randomBytes(1000);
    writeFileSync(file, bytes);
    const descriptor = await store.addFile(file, "application/vnd.pyro.environment.kernel.v1");
    expect(descriptor).toEqual({
      mediaType: "application/vnd.pyro.environment.kernel.v1",
      digest: digestOf(bytes),
      size: 1000,
    });
    expect(statSync(store.pathOf(descriptor.digest)).ino).toBe(statSync(file).ino);
    expect(await store.addBytes(bytes, "x/y")).toMatchObject({ digest: descriptor.digest });
    expect(store.has(descriptor.digest)).toBe(true);
  });

  it("follows a multi-platform index to linux/amd64 and names the platforms when there is none", async () => {
    const amd = await pushImage(client, "pyro/multi", "amd64", [randomBytes(1000)], "amd64");
    const arm = await pushImage(client, "pyro/multi", "arm64", [randomBytes(1000)], "arm64");
    const entry = (digest: string, size: number, architecture: string, variant?: string) => ({
      mediaType: OCI_MANIFEST,
      digest,
      size,
      platform: { os: "linux", architecture, ...(variant ? { variant } : {}) },
    });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          entry(arm.digest, arm.manifest.length, "arm64", "v8"),
          entry(amd.digest, amd.manifest.length, "amd64"),
        ],
      }),
    );
    const indexDigest = await client.putManifest("pyro/multi", "latest", index, OCI_INDEX);
    const resolved = await client.resolveManifest("pyro/multi", "latest");
    expect(resolved.digest).toBe(amd.digest);
    expect(resolved.digest).not.toBe(indexDigest);

    const armOnly = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_LIST,
        manifests: [entry(arm.digest, arm.manifest.length, "arm64", "v8")],
      }),
    );
    await client.putManifest("pyro/multi", "arm-only", armOnly, DOCKER_MANIFEST_LIST);
    const failure = await client.resolveManifest("pyro/multi", "arm-only").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PyroError);
    expect((failure as PyroError).code).toBe("IMAGE_PLATFORM_MISMATCH");
    expect((failure as PyroError).message).toContain("linux/arm64/v8");
  });

  it("reports an unknown repository or tag as IMAGE_NOT_FOUND", async () => {
    expect(await codeOf(client.resolveManifest("pyro/nothing-here", "v1"))).toBe("IMAGE_NOT_FOUND");
    expect(await codeOf(client.resolveManifest("pyro/app", "no-such-tag"))).toBe("IMAGE_NOT_FOUND");
    expect(await codeOf(client.resolveManifest("pyro/app", digestOf(Buffer.from("nothing"))))).toBe(
      "IMAGE_NOT_FOUND",
    );
  });

  it("reports nothing listening as REGISTRY_UNREACHABLE", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const nobody = new RegistryClient(`127.0.0.1:${port}`, { insecure: true, env: {} });
    const failure = await nobody.resolveManifest("pyro/app", "v1").catch((e: unknown) => e);
    expect((failure as PyroError).code).toBe("REGISTRY_UNREACHABLE");
    expect((failure as PyroError).message).toContain("ECONNREFUSED");
    // Without --insecure pyro speaks https, which a plain-HTTP registry cannot answer.
    const tls = new RegistryClient(registry.host, { env: {} });
    expect(await codeOf(tls.resolveManifest("pyro/app", "v1"))).toBe("REGISTRY_UNREACHABLE");
  });
});

describe("token auth against a real docker-registry", () => {
  let registry: TestRegistry;
  const temp = mkdtempSync("/tmp/pyro-oci-");

  beforeAll(async () => {
    registry = await startRegistry({ tokenAuth: true });
  });
  afterAll(async () => {
    await registry.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it("pushes and pulls with the right credentials", async () => {
    const client = new RegistryClient(registry.host, {
      insecure: true,
      credentials: registry.token!,
      env: {},
    });
    const layer = randomBytes(5000);
    const pushed = await pushImage(client, "team/env", "v1", [layer]);
    const resolved = await client.resolveManifest("team/env", "v1");
    expect(resolved.digest).toBe(pushed.digest);
    const store = new BlobStore(join(temp, "cache"));
    await store.fetchAll(client, "team/env", resolved.manifest.layers);
    expect(readFileSync(store.pathOf(digestOf(layer))).equals(layer)).toBe(true);
  });

  it("refuses wrong credentials and anonymous access with REGISTRY_AUTH_FAILED", async () => {
    const wrong = new RegistryClient(registry.host, {
      insecure: true,
      credentials: { username: registry.token!.username, password: "wrong" },
      env: {},
    });
    const failure = await wrong.resolveManifest("team/env", "v1").catch((e: unknown) => e);
    expect((failure as PyroError).code).toBe("REGISTRY_AUTH_FAILED");
    expect((failure as PyroError).message).toContain(registry.token!.username);
    const anonymous = new RegistryClient(registry.host, { insecure: true, env: {} });
    expect(await codeOf(anonymous.resolveManifest("team/env", "v1"))).toBe("REGISTRY_AUTH_FAILED");
  });

  it("takes credentials from the Docker config file named by DOCKER_CONFIG", async () => {
    const { username, password } = registry.token!;
    const withAuth = join(temp, "docker-auth");
    const withFields = join(temp, "docker-fields");
    for (const [dir, entry] of [
      [withAuth, { auth: Buffer.from(`${username}:${password}`).toString("base64") }],
      [withFields, { username, password }],
    ] as const) {
      const config = {
        auths: { "other.example:5000": { auth: "eDp5" }, [`http://${registry.host}`]: entry },
      };
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "config.json"), JSON.stringify(config));
      const client = new RegistryClient(registry.host, { insecure: true, env: { DOCKER_CONFIG: dir } });
      expect((await client.resolveManifest("team/env", "v1")).manifest.layers).toHaveLength(1);
    }
    // ~/.docker/config.json when DOCKER_CONFIG is unset.
    const home = join(temp, "home");
    mkdirSync(join(home, ".docker"), { recursive: true });
    writeFileSync(
      join(home, ".docker", "config.json"),
      JSON.stringify({ auths: { [registry.host]: { username, password: "stale" } } }),
    );
    const stale = new RegistryClient(registry.host, { insecure: true, env: { HOME: home } });
    expect(await codeOf(stale.resolveManifest("team/env", "v1"))).toBe("REGISTRY_AUTH_FAILED");
  });
});
