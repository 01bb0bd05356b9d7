import { createHash } from "node:crypto";
import { PyroError } from "../../errors/index.js";
import type { RegistryClient } from "./client.js";
import { discard, header, type HttpResponse } from "./http.js";
import type { Descriptor } from "./manifest-types.js";

/**
 * A blob up to this size goes in one PUT; a larger one in PATCH requests of this size (each with
 * Content-Range, which docker-registry 2.8 checks against what it already holds), then an empty PUT.
 */
export const UPLOAD_CHUNK_BYTES = 32 * 1024 * 1024;
const ATTEMPTS = 3;

/** Uploads one blob, starting over (with fresh bytes from `open`) when the connection fails. */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  open: () => NodeJS.ReadableStream,
  onBytes?: (n: number) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let sent = 0;
    try {
      await uploadOnce(client, repository, descriptor, open(), (n) => {
        sent += n;
        onBytes?.(n);
      });
      return;
    } catch (error) {
      if (!(error instanceof PyroError) || error.code !== "REGISTRY_UNREACHABLE" || attempt >= ATTEMPTS)
        throw error;
      if (sent > 0) onBytes?.(-sent);
    }
  }
}

async function uploadOnce(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  source: NodeJS.ReadableStream,
  sent: (n: number) => void,
): Promise<void> {
  const scope = `repository:${repository}:pull,push`;
  const started = await client.request("POST", `/v2/${repository}/blobs/uploads/`, { scope });
  if (started.status !== 202)
    throw await client.failure(started, `starting the upload of ${descriptor.digest}`);
  discard(started);
  let location = uploadLocation(client, started);
  const hash = createHash("sha256");
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const patch = async (chunk: Buffer): Promise<void> => {
    const response = await client.request("PATCH", location, {
      scope,
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk,
    });
    if (response.status !== 202) throw await client.failure(response, `uploading ${descriptor.digest}`);
    discard(response);
    location = uploadLocation(client, response);
    offset += chunk.length;
    sent(chunk.length);
  };

  for await (const piece of source as AsyncIterable<Buffer | string>) {
    const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
    hash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (offset + pendingBytes > descriptor.size) throw changed(descriptor, "more");
    while (pendingBytes >= UPLOAD_CHUNK_BYTES && offset + pendingBytes < descriptor.size) {
      const all = Buffer.concat(pending);
      await patch(all.subarray(0, UPLOAD_CHUNK_BYTES));
      const rest = all.subarray(UPLOAD_CHUNK_BYTES);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (offset + pendingBytes !== descriptor.size) throw changed(descriptor, "fewer");
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== descriptor.digest) {
    throw new PyroError(
      "DIGEST_MISMATCH",
      `The bytes given for blob ${descriptor.digest} hash to ${actual}; nothing was stored.`,
      {
        hint: "The local file changed while it was being pushed; push again.",
      },
    );
  }
  const last = Buffer.concat(pending);
  const finish = new URL(location);
  finish.searchParams.set("digest", descriptor.digest);
  const done = await client.request("PUT", finish.href, {
    scope,
    headers: { "content-type": "application/octet-stream" },
    body: last,
  });
  if (done.status !== 201) throw await client.failure(done, `completing the upload of ${descriptor.digest}`);
  discard(done);
  sent(last.length);
}

function uploadLocation(client: RegistryClient, response: HttpResponse): string {
  const location = header(response, "location");
  if (!location)
    throw new PyroError(
      "REGISTRY_ERROR",
      `${client.registry} started an upload without saying where to send it.`,
    );
  return new URL(location, response.url).href;
}

function changed(descriptor: Descriptor, what: "more" | "fewer"): PyroError {
  return new PyroError(
    "DIGEST_MISMATCH",
    `The bytes given for blob ${descriptor.digest} are ${what} than its ${descriptor.size} bytes; nothing was stored.`,
    { hint: "The local file changed while it was being pushed; push again." },
  );
}
