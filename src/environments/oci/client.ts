import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import { parseChallenge } from "./challenge.js";
import { dockerConfigCredentials, type Credentials } from "./docker-config.js";
import { discard, header, readBounded, send, type HttpResponse } from "./http.js";
import {
  checkDescriptor,
  imageIndexSchema,
  imageManifestSchema,
  INDEX_MEDIA_TYPES,
  MANIFEST_ACCEPT,
  MANIFEST_MEDIA_TYPES,
  MAX_MANIFEST_BYTES,
  type Descriptor,
  type ImageManifest,
  type Platform,
} from "./manifest-types.js";
import { checkRepository, checkTagOrDigest, DIGEST, DOCKER_HUB } from "./reference.js";
import { RegistryAuth } from "./token-auth.js";
import { uploadBlob } from "./upload.js";

export type { Credentials } from "./docker-config.js";
export type { Descriptor, ImageManifest } from "./manifest-types.js";

export interface RegistryOptions {
  /** Plain http for this registry (only when the user named it). */
  insecure?: boolean;
  /** Explicit credentials; else the Docker config (DOCKER_CONFIG or ~/.docker/config.json auths). */
  credentials?: Credentials | null;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How long a connection may sit idle before the registry counts as unreachable (default 30 s). */
  timeoutMs?: number;
}

export interface ResolvedManifest {
  manifest: ImageManifest;
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** A blob response: its body from `start` on (a resumed download starts past 0). */
export interface BlobStream {
  body: IncomingMessage;
  start: number;
}

interface RequestOptions {
  scope: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

const WANTED_PLATFORM = { os: "linux", architecture: "amd64" };
const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

const registryErrors = z.object({
  errors: z
    .array(z.object({ code: z.string().max(128).optional(), message: z.string().max(4096).optional() }))
    .max(32),
});

/** The OCI distribution API of one registry: manifests by tag or digest, blobs, uploads. */
export class RegistryClient {
  readonly registry: string;
  private readonly base: URL;
  private readonly auth: RegistryAuth;
  private readonly insecure: boolean;
  private readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;

  constructor(registry: string, options: RegistryOptions = {}) {
    this.registry = registry;
    this.insecure = options.insecure === true;
    this.signal = options.signal;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const apiHost = registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
    this.base = new URL(`${this.insecure ? "http" : "https"}://${apiHost}`);
    const credentials =
      options.credentials !== undefined && options.credentials !== null
        ? options.credentials
        : dockerConfigCredentials(registry, options.env ?? process.env);
    this.auth = new RegistryAuth(registry, credentials, this.insecure, this.timeoutMs, this.signal);
  }

  /** Follows an OCI index / Docker manifest list to linux/amd64 (IMAGE_PLATFORM_MISMATCH names what exists). */
  async resolveManifest(repository: string, reference: string): Promise<ResolvedManifest> {
    checkRepository(repository);
    checkTagOrDigest(reference);
    const first = await this.getManifest(repository, reference);
    if (!first.isIndex)
      return {
        manifest: imageManifest(first),
        digest: first.digest,
        mediaType: first.mediaType,
        bytes: first.bytes,
      };
    const index = parseJson(imageIndexSchema, first.json, `the index ${repository}@${first.digest}`);
    const images = index.manifests.filter((entry) => entry.platform?.os !== "unknown");
    const chosen = images.find(
      (entry) =>
        entry.platform?.os === WANTED_PLATFORM.os &&
        entry.platform.architecture === WANTED_PLATFORM.architecture,
    );
    if (!chosen) {
      const available = [...new Set(images.map((entry) => platformName(entry.platform)))];
      throw new PyroError(
        "IMAGE_PLATFORM_MISMATCH",
        `${this.registry}/${repository}:${reference} has no linux/amd64 image; it has ${available.join(", ") || "none"}.`,
        { details: { reference: `${this.registry}/${repository}:${reference}`, available } },
      );
    }
    const second = await this.getManifest(repository, chosen.digest);
    if (second.isIndex) {
      throw new PyroError(
        "REGISTRY_ERROR",
        `The linux/amd64 entry of ${repository}:${reference} is another index; pyro follows one level.`,
      );
    }
    return {
      manifest: imageManifest(second),
      digest: second.digest,
      mediaType: second.mediaType,
      bytes: second.bytes,
    };
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkDigest(digest);
    const response = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope: pullScope(repository),
    });
    discard(response);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.failure(response, `checking blob ${digest}`);
  }

  /** Opens a blob from byte `offset` on (HTTP Range); a registry that ignores the range starts at 0. */
  async openBlob(repository: string, digest: string, offset = 0): Promise<BlobStream> {
    checkRepository(repository);
    checkDigest(digest);
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const path = `/v2/${repository}/blobs/${digest}`;
    const response = await this.request("GET", path, { scope: pullScope(repository), headers });
    if (response.status === 200) return { body: response.body, start: 0 };
    if (response.status === 206) {
      const start = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header(response, "content-range") ?? "")?.[1];
      if (start === undefined || Number(start) !== offset) {
        discard(response);
        throw new PyroError(
          "REGISTRY_ERROR",
          `${this.registry} answered a range request for ${digest} with the wrong range.`,
        );
      }
      return { body: response.body, start: offset };
    }
    if (response.status === 416 && offset > 0) {
      discard(response);
      return this.openBlob(repository, digest, 0);
    }
    if (response.status === 404) {
      discard(response);
      throw new PyroError("IMAGE_NOT_FOUND", `${this.registry}/${repository} has no blob ${digest}.`, {
        hint: "The manifest names a blob the registry does not hold; the image was pushed incompletely or garbage-collected.",
        details: { repository, digest },
      });
    }
    throw await this.failure(response, `fetching blob ${digest}`);
  }

  /**
   * Skips a blob the registry has (false: nothing sent); `open` gives the bytes again on a retry.
   * `onBytes` reports bytes sent (negative when a failed attempt is retried from the start).
   */
  async pushBlob(
    repository: string,
    descriptor: Descriptor,
    open: () => NodeJS.ReadableStream,
    onBytes?: (n: number) => void,
  ): Promise<boolean> {
    checkDescriptor(descriptor);
    if (await this.hasBlob(repository, descriptor.digest)) return false;
    await uploadBlob(this, repository, descriptor, open, onBytes);
    return true;
  }

  /** Stores a manifest under `tag` (or its digest); returns its digest. */
  async putManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    checkRepository(repository);
    checkTagOrDigest(tag);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new PyroError(
        "INVALID_ARGUMENT",
        `A manifest of ${bytes.length} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit.`,
      );
    }
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const response = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      scope: pushScope(repository),
      headers: { "content-type": mediaType },
      body: bytes,
    });
    if (response.status !== 201)
      throw await this.failure(response, `storing the manifest ${repository}:${tag}`);
    discard(response);
    const echoed = header(response, "docker-content-digest");
    if (echoed !== undefined && echoed.startsWith("sha256:") && echoed !== digest) {
      throw new PyroError(
        "REGISTRY_ERROR",
        `${this.registry} stored the manifest under ${echoed}, not its digest ${digest}.`,
      );
    }
    return digest;
  }

  /**
   * One API request with authorisation (answering a 401 challenge once) and redirects (GET/HEAD
   * only; the Authorization header is never sent to another origin). Used by the uploader too.
   */
  async request(method: string, pathOrUrl: string, options: RequestOptions): Promise<HttpResponse> {
    let url = new URL(pathOrUrl, this.base);
    let authorization = await this.auth.header(options.scope);
    let answeredChallenge = false;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...options.headers };
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await send({
        method,
        url,
        headers,
        body: options.body,
        signal: this.signal,
        idleTimeoutMs: this.timeoutMs,
      });
      if (response.status === 401 && url.origin === this.base.origin && !answeredChallenge) {
        discard(response);
        const challenge = parseChallenge(header(response, "www-authenticate"));
        if (!this.auth.accept(challenge, options.scope)) throw this.refused(options.scope, 401);
        answeredChallenge = true;
        authorization = await this.auth.header(options.scope);
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        discard(response);
        throw this.refused(options.scope, response.status);
      }
      const location = header(response, "location");
      if (
        [301, 302, 303, 307, 308].includes(response.status) &&
        location &&
        (method === "GET" || method === "HEAD")
      ) {
        discard(response);
        if (hop >= MAX_REDIRECTS)
          throw new PyroError(
            "REGISTRY_ERROR",
            `${this.registry} redirected more than ${MAX_REDIRECTS} times.`,
          );
        const next = new URL(location, url);
        if (next.protocol !== "https:" && !(next.protocol === "http:" && this.insecure)) {
          throw new PyroError(
            "REGISTRY_ERROR",
            `${this.registry} redirected to ${next.origin}, which is not https.`,
          );
        }
        if (next.origin !== this.base.origin) authorization = undefined;
        url = next;
        continue;
      }
      return response;
    }
  }

  /** A registry answer pyro cannot use, quoting the registry's own error codes. */
  async failure(response: HttpResponse, doing: string): Promise<PyroError> {
    let quoted = "";
    try {
      const body = await readBounded(response, MAX_ERROR_BODY, "an error body");
      const parsed = registryErrors.safeParse(JSON.parse(body.toString("utf8")));
      if (parsed.success) {
        quoted = parsed.data.errors
          .slice(0, 3)
          .map((e) => `${e.code ?? "?"}: ${(e.message ?? "").slice(0, 200)}`)
          .join("; ");
      }
    } catch {
      // No readable error body: the status alone is quoted.
    }
    return new PyroError(
      "REGISTRY_ERROR",
      `${this.registry} answered HTTP ${response.status} while ${doing}${quoted ? ` (${printable(quoted)})` : ""}.`,
      { details: { registry: this.registry, status: response.status } },
    );
  }

  private refused(scope: string, status: number): PyroError {
    const who = this.auth.user === null ? "anonymous access" : `the credentials of "${this.auth.user}"`;
    return new PyroError(
      "REGISTRY_AUTH_FAILED",
      `${this.registry} refused ${who} for ${scope} (HTTP ${status}).`,
      {
        details: { registry: this.registry, scope, status },
      },
    );
  }

  private async getManifest(
    repository: string,
    reference: string,
  ): Promise<{ bytes: Buffer; json: unknown; digest: string; mediaType: string; isIndex: boolean }> {
    const response = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: pullScope(repository),
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) {
      discard(response);
      throw new PyroError(
        "IMAGE_NOT_FOUND",
        `${this.registry} has no manifest ${repository}${DIGEST.test(reference) ? "@" : ":"}${reference}.`,
        {
          details: { registry: this.registry, repository, reference },
        },
      );
    }
    if (response.status !== 200)
      throw await this.failure(response, `fetching the manifest ${repository}:${reference}`);
    const bytes = await readBounded(response, MAX_MANIFEST_BYTES, "a manifest");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const echoed = header(response, "docker-content-digest");
    if (
      (DIGEST.test(reference) && reference !== digest) ||
      (echoed?.startsWith("sha256:") && echoed !== digest)
    ) {
      throw new PyroError(
        "DIGEST_MISMATCH",
        `The manifest ${repository}@${DIGEST.test(reference) ? reference : echoed} from ${this.registry} hashes to ${digest}.`,
        {
          details: {
            registry: this.registry,
            repository,
            expected: DIGEST.test(reference) ? reference : echoed,
            actual: digest,
          },
        },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new PyroError(
        "REGISTRY_ERROR",
        `The manifest ${repository}:${reference} from ${this.registry} is not JSON.`,
      );
    }
    const declared =
      typeof json === "object" && json !== null && "mediaType" in json
        ? (json as { mediaType: unknown }).mediaType
        : undefined;
    const contentType = (header(response, "content-type") ?? "").split(";")[0]?.trim() ?? "";
    let mediaType = typeof declared === "string" ? declared : contentType;
    // An OCI manifest may omit mediaType and be served as plain JSON: its fields tell which it is.
    if (!isKnown(mediaType) && typeof json === "object" && json !== null) {
      mediaType =
        "manifests" in json ? INDEX_MEDIA_TYPES[0] : "layers" in json ? MANIFEST_MEDIA_TYPES[0] : mediaType;
    }
    if (!isKnown(mediaType)) {
      throw new PyroError(
        "REGISTRY_ERROR",
        `The manifest ${repository}:${reference} is of type "${printable(mediaType.slice(0, 100))}", which pyro does not read (it reads OCI and Docker schema 2).`,
      );
    }
    return {
      bytes,
      json,
      digest,
      mediaType,
      isIndex: (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType),
    };
  }
}

function imageManifest(fetched: { json: unknown; digest: string }): ImageManifest {
  return parseJson(imageManifestSchema, fetched.json, `the manifest ${fetched.digest}`);
}

function parseJson<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PyroError(
    "REGISTRY_ERROR",
    `${what} is malformed: ${issue?.path.join(".") || "(root)"}: ${issue?.message}.`,
  );
}

function isKnown(mediaType: string): boolean {
  return (
    (MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType) ||
    (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType)
  );
}

function platformName(platform: Platform | undefined): string {
  if (!platform) return "unspecified";
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

function checkDigest(digest: string): void {
  if (!DIGEST.test(digest))
    throw new PyroError("INVALID_ARGUMENT", `"${digest.slice(0, 100)}" is not a sha256 digest.`);
}

/** Text from a registry, with control characters removed before it reaches a terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;
