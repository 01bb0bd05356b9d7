import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { PyroError } from "../../errors/index.js";

/** One HTTP exchange with a registry (or its token service, or where it redirects to). */
export interface SendOptions {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
  /** The connection may sit idle this long (connecting, waiting for headers, between body bytes). */
  idleTimeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  url: URL;
  body: IncomingMessage;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNABORTED",
]);

/** Connection refused, reset, timed out or name unknown: the registry could not be reached (or went away). */
export function unreachable(url: URL, error: unknown, doing: string): PyroError {
  if (error instanceof PyroError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code && NETWORK_CODES.has(code) ? code : error instanceof Error ? error.message : String(error);
  return new PyroError("REGISTRY_UNREACHABLE", `Lost contact with ${url.host} while ${doing}: ${why}.`, {
    cause: error,
    details: { host: url.host, code: code ?? null },
  });
}

/** Sends one request; resolves once the response headers arrive (the body is the caller's to read or discard). */
export function send(options: SendOptions): Promise<HttpResponse> {
  const { url } = options;
  const request = url.protocol === "https:" ? httpsRequest : url.protocol === "http:" ? httpRequest : null;
  if (!request) {
    return Promise.reject(
      new PyroError(
        "REGISTRY_ERROR",
        `The registry pointed to ${url.protocol} URL ${url.host}; only http(s) is spoken.`,
      ),
    );
  }
  const headers: Record<string, string> = { "user-agent": "pyro-mcp", ...options.headers };
  if (options.body) headers["content-length"] = String(options.body.length);
  return new Promise<HttpResponse>((resolve, reject) => {
    // No connection reuse: a registry that restarts must not leave a stale pooled socket behind.
    const req = request(
      url,
      { method: options.method, headers, signal: options.signal, agent: false },
      (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      },
    );
    req.setTimeout(options.idleTimeoutMs, () => {
      const error = Object.assign(new Error(`no answer within ${options.idleTimeoutMs / 1000} s`), {
        code: "ETIMEDOUT",
      });
      req.destroy(error);
    });
    req.on("error", (error) =>
      reject(
        abortedOr(error, options.signal) ??
          unreachable(url, error, `sending ${options.method} ${url.pathname}`),
      ),
    );
    req.end(options.body);
  });
}

/** An AbortError when the caller cancelled, so a cancel is not reported as a network failure. */
function abortedOr(error: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted ? (signal.reason ?? error) : undefined;
}

/** Reads a whole response body of at most `limit` bytes; a larger one is REGISTRY_ERROR. */
export async function readBounded(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers["content-length"] ?? NaN);
  if (declared > limit) {
    response.body.destroy();
    throw tooLarge(response.url, what, limit);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        response.body.destroy();
        throw tooLarge(response.url, what, limit);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw unreachable(response.url, error, `reading ${what}`);
  }
  return Buffer.concat(chunks);
}

function tooLarge(url: URL, what: string, limit: number): PyroError {
  return new PyroError(
    "REGISTRY_ERROR",
    `${url.host} sent ${what} larger than ${limit} bytes; pyro refuses it.`,
    { details: { host: url.host, limit } },
  );
}

/** Drops a body nobody will read, so its connection closes. */
export function discard(response: HttpResponse): void {
  response.body.resume();
  response.body.on("error", () => undefined);
}

/** A header's single value (the first of a repeated one). */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
