import { createHash, randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import {
  chmod,
  copyFile,
  link,
  mkdir,
  open,
  rename,
  stat,
  truncate,
  unlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import { sha256File } from "../../platform/file-digest.js";
import { acquireLock } from "../lock.js";
import { BLOBS_FOLDER } from "../paths.js";
import type { RegistryClient } from "./client.js";
import { checkDescriptor, type Descriptor } from "./manifest-types.js";
import { DIGEST } from "./reference.js";

/**
 * Progress of one fetchAll. `done_bytes` counts every byte present, `cached_bytes` (a part of it)
 * the blobs that were in the store before: the transfer rate is (done - cached) over time.
 */
export interface TransferProgress {
  total_bytes: number;
  done_bytes: number;
  cached_bytes: number;
  blobs_total: number;
  blobs_done: number;
}

/**
 * Gets a blob's bytes in order as they arrive (or from the store when the blob is already there),
 * e.g. to unpack a layer while it downloads. The bytes are NOT verified yet: the consumer may only
 * use its output once fetchAll has resolved (each blob verified) and must discard it otherwise.
 */
export interface BlobConsumer {
  write(chunk: Buffer): Promise<void>;
  /** Forget everything written: the bytes start again from the blob's first byte. */
  restart(): Promise<void>;
}

export interface FetchOptions {
  concurrency?: number;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
  /**
   * Hash the blobs already in the store again and fetch those that no longer match: an installed
   * file hard-linked from a blob shares its inode, so damage to the file is damage to the blob.
   */
  recheck?: boolean;
  /** Consumers by digest (see BlobConsumer). */
  consumers?: ReadonlyMap<string, BlobConsumer>;
}

const DEFAULT_CONCURRENCY = 4;
const PROGRESS_INTERVAL_MS = 100;
/** Another process downloading the same blob is waited for this long. */
const BLOB_LOCK_WAIT_MS = 30 * 60 * 1000;
const READ_BUFFER_BYTES = 1024 * 1024;
/** Received pieces (64 KiB each off a socket) are gathered into writes of about this size. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Content-addressed blobs shared by every environment: `<cache>/blobs/sha256/<hex>`, each verified
 * (size and sha256) before it is renamed in and read-only (0444) after. Downloads in progress live
 * in `<cache>/blobs/.partial/<hex>` and are resumed with an HTTP Range request after an interruption.
 */
export class BlobStore {
  readonly root: string;

  constructor(cacheDir: string) {
    this.root = join(cacheDir, BLOBS_FOLDER);
  }

  pathOf(digest: string): string {
    return join(this.root, "sha256", hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  /** Where a download of `digest` in progress (or interrupted) keeps its bytes. */
  partialPathOf(digest: string): string {
    return join(this.root, ".partial", hexOf(digest));
  }

  /**
   * Downloads in parallel (default 4), resumes partials with Range, verifies size+sha256 before a
   * blob enters the store (DIGEST_MISMATCH deletes the partial), skips blobs already present. On the
   * first failure the other downloads stop (their partials are kept) and that failure is thrown.
   */
  async fetchAll(
    client: RegistryClient,
    repository: string,
    descriptors: Descriptor[],
    options: FetchOptions = {},
  ): Promise<void> {
    const unique = new Map<string, Descriptor>();
    for (const descriptor of descriptors) unique.set(descriptor.digest, checkDescriptor(descriptor));
    await this.makeFolders();
    const progress: TransferProgress = {
      total_bytes: 0,
      done_bytes: 0,
      cached_bytes: 0,
      blobs_total: unique.size,
      blobs_done: 0,
    };
    const missing: Descriptor[] = [];
    const present: Array<[Descriptor, BlobConsumer]> = [];
    for (const descriptor of unique.values()) {
      progress.total_bytes += descriptor.size;
      if (this.present(descriptor) && (!options.recheck || (await this.intact(descriptor)))) {
        progress.cached_bytes += descriptor.size;
        progress.done_bytes += descriptor.size;
        progress.blobs_done++;
        const consumer = options.consumers?.get(descriptor.digest);
        if (consumer) present.push([descriptor, consumer]);
      } else missing.push(descriptor);
    }
    let lastReport = 0;
    const report = (force = false): void => {
      const now = Date.now();
      if (!options.onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
      lastReport = now;
      options.onProgress({ ...progress });
    };
    report(true);

    const stop = new AbortController();
    const onOuterAbort = (): void => stop.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onOuterAbort, { once: true });
    let failure: unknown = null;
    const queue = [...missing];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next && !stop.signal.aborted; next = queue.shift()) {
        try {
          await this.fetchOne(
            client,
            repository,
            next,
            stop.signal,
            (n) => {
              progress.done_bytes += n;
              report();
            },
            options.consumers?.get(next.digest) ?? null,
          );
          progress.blobs_done++;
          report();
        } catch (error) {
          failure ??= error;
          stop.abort(error);
        }
      }
    };
    const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, missing.length));
    try {
      const feeds = present.map(async ([descriptor, consumer]) => {
        try {
          await feedFile(consumer, this.pathOf(descriptor.digest), descriptor.size, stop.signal);
        } catch (error) {
          failure ??= error;
          stop.abort(error);
        }
      });
      await Promise.all([...Array.from({ length: workers }, worker), ...feeds]);
    } finally {
      options.signal?.removeEventListener("abort", onOuterAbort);
    }
    if (failure !== null) throw failure;
    if (options.signal?.aborted) throw options.signal.reason;
    report(true);
  }

  /**
   * Hashes a local file into the store (hard link when on the same filesystem, else a copy);
   * returns its descriptor. A hard link shares the file's inode: the file becomes read-only and
   * must not be changed afterwards.
   */
  async addFile(path: string, mediaType: string): Promise<Descriptor> {
    await this.makeFolders();
    const temp = join(this.root, ".partial", `add-${randomBytes(8).toString("hex")}`);
    try {
      await link(path, temp);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw error;
      await copyFile(path, temp);
    }
    return this.adopt(temp, mediaType);
  }

  async addBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    await this.makeFolders();
    const temp = join(this.root, ".partial", `add-${randomBytes(8).toString("hex")}`);
    await writeFile(temp, bytes, { flag: "wx" });
    return this.adopt(temp, mediaType);
  }

  /** Moves a complete file from .partial into the store under its own digest. */
  private async adopt(temp: string, mediaType: string): Promise<Descriptor> {
    try {
      const digest = `sha256:${await sha256File(temp)}`;
      const { size } = await stat(temp);
      if (this.has(digest)) await unlink(temp);
      else {
        await chmod(temp, 0o444);
        await rename(temp, this.pathOf(digest));
      }
      return { mediaType, digest, size };
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  private async makeFolders(): Promise<void> {
    await mkdir(join(this.root, "sha256"), { recursive: true });
    await mkdir(join(this.root, ".partial"), { recursive: true });
  }

  /** The stored blob still hashes to its digest; a damaged one is removed (to be fetched again). */
  private async intact(descriptor: Descriptor): Promise<boolean> {
    const path = this.pathOf(descriptor.digest);
    if (`sha256:${await sha256File(path)}` === descriptor.digest) return true;
    await unlink(path);
    return false;
  }

  /** In the store with the expected size (the content was verified when it entered). */
  private present(descriptor: Descriptor): boolean {
    try {
      return statSync(this.pathOf(descriptor.digest)).size === descriptor.size;
    } catch {
      return false;
    }
  }

  private async fetchOne(
    client: RegistryClient,
    repository: string,
    descriptor: Descriptor,
    stop: AbortSignal,
    onBytes: (n: number) => void,
    consumer: BlobConsumer | null,
  ): Promise<void> {
    const partial = this.partialPathOf(descriptor.digest);
    // Two pulls may want the same blob: one downloads, the other waits and then finds it present.
    const lock = await acquireLock(`${partial}.lock`, { timeoutMs: BLOB_LOCK_WAIT_MS, pollMs: 200 });
    try {
      if (this.present(descriptor)) {
        // Another process downloaded it meanwhile.
        if (consumer) await feedFile(consumer, this.pathOf(descriptor.digest), descriptor.size, stop);
        onBytes(descriptor.size);
        return;
      }
      await unlink(this.pathOf(descriptor.digest)).catch(() => undefined);
      await this.download(client, repository, descriptor, partial, stop, onBytes, consumer);
      await chmod(partial, 0o444);
      await rename(partial, this.pathOf(descriptor.digest));
    } finally {
      await lock.release();
    }
  }

  /** Completes `partial` from the registry and verifies it; a mismatch deletes it. */
  private async download(
    client: RegistryClient,
    repository: string,
    descriptor: Descriptor,
    partial: string,
    stop: AbortSignal,
    onBytes: (n: number) => void,
    given: BlobConsumer | null,
  ): Promise<void> {
    const { digest, size } = descriptor;
    const consumer = given ? new UntilVerified(given) : null;
    let have = await stat(partial).then(
      (s) => s.size,
      () => 0,
    );
    if (have === 0 || have > size) {
      // Started afresh (also for an empty blob, which needs no request).
      await writeFile(partial, "");
      have = 0;
    }
    let hash = createHash("sha256");
    if (have > 0) await hashInto(hash, partial, have, consumer);
    onBytes(have);
    if (have < size) {
      if (stop.aborted) throw stop.reason;
      const blob = await client.openBlob(repository, digest, have);
      if (blob.start === 0 && have > 0) {
        // The registry ignored the range: start over.
        onBytes(-have);
        await truncate(partial, 0);
        have = 0;
        hash = createHash("sha256");
        await consumer?.restart();
      }
      have = await this.append(
        client.registry,
        blob.body,
        partial,
        have,
        descriptor,
        { hash, consumer },
        stop,
        onBytes,
      );
    }
    await this.verify(partial, descriptor, have, hash.digest("hex"));
    consumer?.rethrow();
  }

  /** Appends the response body to `partial`; returns the partial's new size. Never grows it past the blob's size. */
  private async append(
    registry: string,
    body: NodeJS.ReadableStream & { destroy(error?: Error): void },
    partial: string,
    offset: number,
    descriptor: Descriptor,
    sinks: { hash: ReturnType<typeof createHash>; consumer: BlobConsumer | null },
    stop: AbortSignal,
    onBytes: (n: number) => void,
  ): Promise<number> {
    const onStop = (): void => body.destroy(new Error("cancelled"));
    stop.addEventListener("abort", onStop, { once: true });
    const file = await open(partial, "a", 0o644);
    let have = offset;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    // One write per batch; the consumer works on the same bytes meanwhile.
    const flush = async (): Promise<void> => {
      if (batchBytes === 0) return;
      const pieces = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      const consume = async (): Promise<void> => {
        for (const piece of pieces) await sinks.consumer?.write(piece);
      };
      const [written] = await Promise.all([file.writev(pieces), consume()]);
      if (written.bytesWritten !== bytes) throw new Error(`short write to ${partial}`);
      have += bytes;
      onBytes(bytes);
    };
    try {
      for await (const piece of body as AsyncIterable<Buffer>) {
        if (have + batchBytes + piece.length > descriptor.size) {
          body.destroy();
          await file.close();
          await unlink(partial).catch(() => undefined);
          throw mismatch(descriptor, `more than its ${descriptor.size} bytes`);
        }
        sinks.hash.update(piece);
        batch.push(piece);
        batchBytes += piece.length;
        if (batchBytes >= WRITE_BATCH_BYTES) await flush();
      }
      await flush();
    } catch (error) {
      // Bytes received before a cut are kept, so the next pull resumes after them.
      if (!(error instanceof PyroError)) await flush().catch(() => undefined);
      if (stop.aborted) throw stop.reason;
      if (error instanceof PyroError) throw error;
      throw interrupted(registry, descriptor, have, error);
    } finally {
      stop.removeEventListener("abort", onStop);
      await file.sync().catch(() => undefined);
      await file.close().catch(() => undefined);
    }
    if (stop.aborted) throw stop.reason;
    if (have < descriptor.size) throw interrupted(registry, descriptor, have, null);
    return have;
  }

  private async verify(partial: string, descriptor: Descriptor, have: number, hex: string): Promise<void> {
    if (have !== descriptor.size || `sha256:${hex}` !== descriptor.digest) {
      await unlink(partial).catch(() => undefined);
      throw mismatch(descriptor, `sha256:${hex}`);
    }
  }
}

/**
 * A consumer's failure on bytes not verified yet is held until the blob is: tampered bytes are
 * reported as the digest mismatch they are, not as whatever they made the consumer trip over.
 */
class UntilVerified implements BlobConsumer {
  private failure: { error: unknown } | null = null;

  constructor(private readonly inner: BlobConsumer) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) return;
    try {
      await this.inner.write(chunk);
    } catch (error) {
      this.failure = { error };
    }
  }

  async restart(): Promise<void> {
    this.failure = null;
    await this.inner.restart();
  }

  rethrow(): void {
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Feeds the first `length` bytes of a file to `hash` and the consumer (a resumed download hashes
 * what it already has); returns how many there were.
 */
async function hashInto(
  hash: ReturnType<typeof createHash> | null,
  path: string,
  length: number,
  consumer: BlobConsumer | null,
): Promise<number> {
  const file = await open(path, "r");
  let at = 0;
  try {
    while (at < length) {
      // A fresh buffer each time: the consumer may keep what it is given.
      const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER_BYTES, length - at));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) break;
      const bytes = buffer.subarray(0, bytesRead);
      hash?.update(bytes);
      await consumer?.write(bytes);
      at += bytesRead;
    }
  } finally {
    await file.close();
  }
  return at;
}

/** Gives a blob already in the store to its consumer. */
async function feedFile(
  consumer: BlobConsumer,
  path: string,
  size: number,
  stop: AbortSignal,
): Promise<void> {
  if (stop.aborted) throw stop.reason;
  if ((await hashInto(null, path, size, consumer)) !== size)
    throw new Error(`${path} is shorter than its ${size} bytes`);
}

function hexOf(digest: string): string {
  if (!DIGEST.test(digest))
    throw new PyroError("INVALID_ARGUMENT", `"${digest.slice(0, 100)}" is not a sha256 digest.`);
  return digest.slice("sha256:".length);
}

function mismatch(descriptor: Descriptor, got: string): PyroError {
  const what = got.startsWith("sha256:") ? `hashes to ${got}` : `is ${got}`;
  return new PyroError(
    "DIGEST_MISMATCH",
    `Blob ${descriptor.digest} from the registry ${what}; it was discarded.`,
    { details: { expected: descriptor.digest, size: descriptor.size } },
  );
}

/** The connection broke (or ended early) mid-blob: the part received stays for the next attempt. */
function interrupted(registry: string, descriptor: Descriptor, have: number, error: unknown): PyroError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const why =
    error === null
      ? "the registry ended the response early"
      : (code ?? (error instanceof Error ? error.message : String(error)));
  return new PyroError(
    "REGISTRY_UNREACHABLE",
    `The download of ${descriptor.digest} from ${registry} stopped after ${have} of ${descriptor.size} bytes (${why}).`,
    {
      hint: "The part received is kept: run the command again to resume it once the registry is reachable.",
      cause: error ?? undefined,
      details: { registry, digest: descriptor.digest, received: have, size: descriptor.size },
    },
  );
}
