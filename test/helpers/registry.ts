import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";

/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a
 * temporary storage folder. With `tokenAuth`, the registry demands Bearer tokens from a token
 * server run in this process: it checks Basic credentials and signs ES256 JWTs whose `x5c` header
 * carries a self-signed certificate (made with openssl) that the registry trusts as its
 * `rootcertbundle`.
 */
export interface TestRegistry {
  host: string;
  storageDir: string;
  stop(): Promise<void>;
  token?: { username: string; password: string };
}

const SERVICE = "pyro-test-registry";
const ISSUER = "pyro-test-token-issuer";

export async function startRegistry(options: { tokenAuth?: boolean } = {}): Promise<TestRegistry> {
  // The pyro-t- prefix lets the global teardown catch a registry a test forgot to stop.
  const dir = mkdtempSync("/tmp/pyro-t-registry-");
  const storageDir = join(dir, "storage");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let tokenServer: TokenServer | null = null;
  let child: ChildProcess | null = null;
  try {
    if (options.tokenAuth) tokenServer = await startTokenServer(dir);
    const configPath = join(dir, "config.yml");
    writeFileSync(configPath, registryConfig(storageDir, host, tokenServer));
    child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < 256) stderr.push(chunk);
    });
    await waitUntilServing(host, child, () => Buffer.concat(stderr).toString("utf8"));
  } catch (error) {
    child?.kill("SIGKILL");
    await tokenServer?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = child;
  const server = tokenServer;
  return {
    host,
    storageDir,
    token: server?.credentials,
    async stop() {
      if (running.exitCode === null && running.signalCode === null) {
        const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
        running.kill("SIGKILL");
        await exited;
      }
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function registryConfig(storageDir: string, host: string, token: TokenServer | null): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
  ];
  if (token) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${token.realm}`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${token.certPath}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A port that was free a moment ago (the registry binds it itself). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitUntilServing(host: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    }
    const status = await getStatus(`http://${host}/v2/`);
    // 200 anonymous, 401 with token auth: either way it is serving.
    if (status === 200 || status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not answer on ${host}: ${output()}`);
}

function getStatus(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on("error", () => resolve(null));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

interface TokenServer {
  realm: string;
  certPath: string;
  credentials: { username: string; password: string };
  close(): Promise<void>;
}

/** The token endpoint of the distribution token-auth spec, granting what the scope asks to the one user. */
async function startTokenServer(dir: string): Promise<TokenServer> {
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=pyro-test-token-issuer",
    ],
    { stdio: "ignore" },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString("base64");
  const credentials = { username: "pyro-tester", password: randomBytes(12).toString("hex") };
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/token") {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: ISSUER,
      sub: credentials.username,
      aud: url.searchParams.get("service") ?? SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access: url.searchParams.getAll("scope").flatMap(scopeAccess),
    };
    const header = { typ: "JWT", alg: "ES256", x5c: [certDer] };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JOSE wants the raw r||s form of an ECDSA signature, not DER.
    const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
    const token = `${signingInput}.${base64url(signature)}`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no token server port");
  return {
    realm: `http://127.0.0.1:${address.port}/token`,
    certPath,
    credentials,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** "repository:name:pull,push" → one access entry (names may hold colons only before the last one). */
function scopeAccess(scope: string): { type: string; name: string; actions: string[] }[] {
  return scope.split(" ").flatMap((one) => {
    const first = one.indexOf(":");
    const last = one.lastIndexOf(":");
    if (first < 0 || last <= first) return [];
    return [
      {
        type: one.slice(0, first),
        name: one.slice(first + 1, last),
        actions: one.slice(last + 1).split(","),
      },
    ];
  });
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}
