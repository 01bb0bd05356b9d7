import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import type { Challenge } from "./challenge.js";
import type { Credentials } from "./docker-config.js";
import { discard, readBounded, send } from "./http.js";

const tokenResponse = z
  .object({
    token: z.string().min(1).max(65_536).optional(),
    access_token: z.string().min(1).max(65_536).optional(),
    expires_in: z
      .number()
      .int()
      .positive()
      .max(86_400 * 366)
      .optional(),
  })
  .refine((body) => body.token !== undefined || body.access_token !== undefined, "no token");

const MAX_TOKEN_RESPONSE = 256 * 1024;
/** Tokens are renewed a little before they expire; the spec's default lifetime is 60 s. */
const DEFAULT_TOKEN_SECONDS = 60;
const RENEW_MARGIN_MS = 10_000;

/**
 * How requests to one registry are authorised, learnt from its first challenge: nothing, Basic
 * with the credentials, or Bearer tokens from its token service (one per scope, kept until near expiry).
 */
export class RegistryAuth {
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | null,
    private readonly insecure: boolean,
    private readonly idleTimeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The Authorization header for a request needing `scope`, or none while no challenge was seen. */
  async header(scope: string): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === "basic") return this.basic();
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    return `Bearer ${await this.fetchToken(scope)}`;
  }

  /** Learns from a 401; false when retrying cannot help (no way to answer the challenge). */
  accept(challenge: Challenge | null, scope: string): boolean {
    if (!challenge) return false;
    if (challenge.scheme === "basic" && !this.credentials) return false;
    if (challenge.scheme === "bearer" && !challenge.params.realm) return false;
    this.challenge = challenge;
    this.tokens.delete(scope);
    return true;
  }

  get user(): string | null {
    return this.credentials?.username ?? null;
  }

  private basic(): string {
    const { username, password } = this.credentials ?? { username: "", password: "" };
    return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  private async fetchToken(scope: string): Promise<string> {
    const params = this.challenge?.params ?? {};
    let realm: URL;
    try {
      realm = new URL(params.realm ?? "");
    } catch {
      throw new PyroError(
        "REGISTRY_ERROR",
        `${this.registry} named an unusable token service "${params.realm}".`,
      );
    }
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && this.insecure)) {
      throw new PyroError(
        "REGISTRY_ERROR",
        `${this.registry} sent pyro to the token service ${realm.origin}, which is not https.`,
        { hint: "Pass --insecure only if you run this registry and its token service over plain HTTP." },
      );
    }
    if (params.service) realm.searchParams.set("service", params.service);
    realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.credentials) headers.authorization = this.basic();
    const response = await send({
      method: "GET",
      url: realm,
      headers,
      signal: this.signal,
      idleTimeoutMs: this.idleTimeoutMs,
    });
    if (response.status === 401 || response.status === 403) {
      discard(response);
      throw new PyroError(
        "REGISTRY_AUTH_FAILED",
        this.credentials
          ? `The token service of ${this.registry} refused the credentials of "${this.credentials.username}" (HTTP ${response.status}).`
          : `The token service of ${this.registry} refused anonymous access to ${scope} (HTTP ${response.status}).`,
        { details: { registry: this.registry, scope, status: response.status } },
      );
    }
    if (response.status !== 200) {
      discard(response);
      throw new PyroError(
        "REGISTRY_ERROR",
        `The token service of ${this.registry} answered HTTP ${response.status}.`,
        {
          details: { registry: this.registry, status: response.status },
        },
      );
    }
    const bytes = await readBounded(response, MAX_TOKEN_RESPONSE, "a token response");
    let body: z.infer<typeof tokenResponse>;
    try {
      body = tokenResponse.parse(JSON.parse(bytes.toString("utf8")));
    } catch {
      throw new PyroError(
        "REGISTRY_ERROR",
        `The token service of ${this.registry} sent a response without a token.`,
      );
    }
    const value = body.token ?? body.access_token ?? "";
    const lifetimeMs = (body.expires_in ?? DEFAULT_TOKEN_SECONDS) * 1000;
    this.tokens.set(scope, { value, expiresAt: Date.now() + Math.max(0, lifetimeMs - RENEW_MARGIN_MS) });
    return value;
  }
}
