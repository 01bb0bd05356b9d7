import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BlobStore,
  OCI_MANIFEST,
  RegistryClient,
  type Descriptor,
} from "../../src/environments/oci/index.js";
import { registryDataFile, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startRelay, type TcpRelay } from "../helpers/tcp-relay.js";
import { failureOf } from "../helpers/failure.js";

const MiB = 1024 * 1024;
const digestOf = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const layer = (bytes: Buffer): Descriptor => ({
  mediaType: "application/octet-stream",
  digest: digestOf(bytes),
  size: bytes.length,
});

/** Every file a store holds: its blobs and anything left in .partial. */
function storeFiles(store: BlobStore): string[] {
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  return [
    ...list(join(store.root, "sha256")),
    ...list(join(store.root, ".partial")).map((f) => `.partial/${f}`),
  ];
}

describe("blob downloads from a hostile or failing registry", () => {
  let registry: TestRegistry;
  let relay: TcpRelay;
  let client: RegistryClient;
  const temp = mkdtempSync("/tmp/pyro-oci-");

  beforeAll(async () => {
    registry = await startRegistry();
    relay = await startRelay(registry.host);
    client = new RegistryClient(registry.host, { insecure: true, env: {} });
  });
  afterAll(async () => {
    await relay.close();
    await registry.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  const push = async (repository: string, bytes: Buffer): Promise<Descriptor> => {
    const descriptor = layer(bytes);
    await client.pushBlob(repository, descriptor, () => Readable.from([bytes]));
    return descriptor;
  };

  it("discards a blob whose bytes were tampered with in the registry (same size or longer)", async () => {
    for (const [name, tamper] of [
      [
        "same size",
        (original: Buffer) =>
          Buffer.concat([original.subarray(0, 1000), Buffer.from("X"), original.subarray(1001)]),
      ],
      ["longer", (original: Buffer) => Buffer.concat([original, Buffer.from("trailing")])],
    ] as const) {
      const bytes = randomBytes(2 * MiB);
      const descriptor = await push("hostile/tampered", bytes);
      writeFileSync(registryDataFile(registry, descriptor.digest), tamper(bytes));
      const store = new BlobStore(join(temp, `tampered-${name.replace(" ", "-")}`));
      const failure = await failureOf(store.fetchAll(client, "hostile/tampered", [descriptor]));
      expect(failure.code, name).toBe("DIGEST_MISMATCH");
      expect(failure.message).toContain(descriptor.digest);
      expect(storeFiles(store), name).toEqual([]);
    }
  });

  it("refuses a manifest whose stored bytes no longer match its digest", async () => {
    const config = await push("hostile/manifest", Buffer.from("{}"));
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] }),
    );
    const digest = await client.putManifest("hostile/manifest", "v1", manifest, OCI_MANIFEST);
    const tampered = Buffer.from(manifest.toString("utf8").replace('"layers":[]', '"layers":[] '));
    writeFileSync(registryDataFile(registry, digest), tampered);
    expect((await failureOf(client.resolveManifest("hostile/manifest", digest))).code).toBe(
      "DIGEST_MISMATCH",
    );
    expect((await failureOf(client.resolveManifest("hostile/manifest", "v1"))).code).toBe("DIGEST_MISMATCH");
  });

  it("keeps a truncated download and resumes it with a Range request for only the rest", async () => {
    const size = 8 * MiB;
    const bytes = randomBytes(size);
    const descriptor = await push("hostile/truncated", bytes);
    const store = new BlobStore(join(temp, "truncated"));
    const viaRelay = new RegistryClient(relay.host, { insecure: true, env: {} });

    relay.rules.cutNextAfter = 3 * MiB;
    const before = relay.connections.length;
    const failure = await failureOf(store.fetchAll(viaRelay, "hostile/truncated", [descriptor]));
    expect(failure.code).toBe("REGISTRY_UNREACHABLE");
    expect(failure.message).toMatch(/stopped after \d+ of 8388608 bytes/);
    expect(store.has(descriptor.digest)).toBe(false);
    const kept = statSync(store.partialPathOf(descriptor.digest)).size;
    expect(kept).toBeGreaterThan(2 * MiB);
    expect(kept).toBeLessThan(3 * MiB);
    expect(readFileSync(store.partialPathOf(descriptor.digest)).equals(bytes.subarray(0, kept))).toBe(true);

    await store.fetchAll(viaRelay, "hostile/truncated", [descriptor]);
    const resumed = relay.connections.slice(before + 1);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.request.toLowerCase()).toContain(`range: bytes=${kept}-`);
    // Only the rest (plus response headers) came through the second time.
    expect(resumed[0]!.responseBytes).toBeGreaterThanOrEqual(size - kept);
    expect(resumed[0]!.responseBytes).toBeLessThan(size - kept + 4096);
    expect(readFileSync(store.pathOf(descriptor.digest)).equals(bytes)).toBe(true);
    expect(storeFiles(store)).toEqual([descriptor.digest.slice(7)]);
  });

  it("reports a registry killed mid-download, keeps nothing in the store, and resumes once it is back", async () => {
    const size = 64 * MiB;
    const bytes = randomBytes(size);
    const descriptor = await push("hostile/killed", bytes);
    const store = new BlobStore(join(temp, "killed"));
    // A slow link, so the registry is still sending when it dies.
    relay.rules.bytesPerSecond = 32 * MiB;
    const viaRelay = new RegistryClient(relay.host, { insecure: true, env: {} });
    let crashed: Promise<void> | null = null;
    const failure = await failureOf(
      store.fetchAll(viaRelay, "hostile/killed", [descriptor], {
        onProgress: (p) => {
          if (p.done_bytes >= 8 * MiB) crashed ??= registry.crash();
        },
      }),
    );
    await crashed;
    relay.rules.bytesPerSecond = null;
    expect(crashed).not.toBeNull();
    expect(failure.code).toBe("REGISTRY_UNREACHABLE");
    expect(failure.hint).toContain("resume");
    expect(store.has(descriptor.digest)).toBe(false);
    const kept = statSync(store.partialPathOf(descriptor.digest)).size;
    expect(kept).toBeGreaterThanOrEqual(8 * MiB);
    expect(kept).toBeLessThan(size);

    // While it is down: a clear error, the partial untouched.
    const down = await failureOf(store.fetchAll(viaRelay, "hostile/killed", [descriptor]));
    expect(down.code).toBe("REGISTRY_UNREACHABLE");
    expect(statSync(store.partialPathOf(descriptor.digest)).size).toBe(kept);

    await registry.restart();
    const before = relay.connections.length;
    await store.fetchAll(viaRelay, "hostile/killed", [descriptor]);
    const resumed = relay.connections.slice(before);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.request.toLowerCase()).toContain(`range: bytes=${kept}-`);
    expect(resumed[0]!.responseBytes).toBeLessThan(size - kept + 4096);
    expect(readFileSync(store.pathOf(descriptor.digest)).equals(bytes)).toBe(true);
    expect(storeFiles(store)).toEqual([descriptor.digest.slice(7)]);
  });

  it("refuses a manifest larger than 4 MiB with REGISTRY_ERROR, with or without a Content-Length", async () => {
    const config = await push("hostile/huge", Buffer.from("{}"));
    // docker-registry stores and serves manifests up to 4 MiB: the largest it serves…
    const padding = "x".repeat(4 * MiB - 1024);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config,
        layers: [],
        annotations: { padding },
      }),
    );
    expect(manifest.length).toBeLessThanOrEqual(4 * MiB);
    await client.putManifest("hostile/huge", "v1", manifest, OCI_MANIFEST);
    // …grows in transit by trailing whitespace (still valid JSON) to over 4 MiB.
    const grow = (keepLength: boolean) => (response: Buffer) => {
      const split = response.indexOf("\r\n\r\n");
      const head = response.subarray(0, split).toString("latin1");
      const body = Buffer.concat([response.subarray(split + 4), Buffer.alloc(64 * 1024, " ")]);
      const lines = head.split("\r\n").filter((line) => !/^(content-length|connection):/i.test(line));
      if (keepLength) lines.push(`Content-Length: ${body.length}`);
      lines.push("Connection: close");
      return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
    };
    const viaRelay = new RegistryClient(relay.host, { insecure: true, env: {} });
    for (const keepLength of [true, false]) {
      relay.rules.rewriteNextResponse = grow(keepLength);
      const failure = await failureOf(viaRelay.resolveManifest("hostile/huge", "v1"));
      expect(failure.code).toBe("REGISTRY_ERROR");
      expect(failure.message).toContain("larger than 4194304 bytes");
    }
    // Untouched, the same manifest resolves.
    expect((await viaRelay.resolveManifest("hostile/huge", "v1")).bytes.length).toBe(manifest.length);
  });
});
