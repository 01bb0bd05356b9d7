import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";

/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a
 * temporary storage folder. With `tokenAuth`, the registry demands Bearer tokens from a token
 * server run in this process: it checks Basic credentials and signs ES256 JWTs whose `x5c` header
 * carries a self-signed certificate (made with openssl) that the registry trusts as its
 * `rootcertbundle`. With `basicAuth`, the registry itself checks Basic credentials against an
 * htpasswd file (bcrypt, made with python3's crypt module).
 */
export interface TestRegistry {
  host: string;
  storageDir: string;
  stop(): Promise<void>;
  /** The credentials the registry accepts (at its token service with tokenAuth, itself with basicAuth). */
  token?: { username: string; password: string };
  /** Kills the registry process at once (SIGKILL), keeping its storage: a registry gone mid-transfer. */
  crash(): Promise<void>;
  /** Starts the registry again on the same address and storage. */
  restart(): Promise<void>;
}

const SERVICE = "pyro-test-registry";
const ISSUER = "pyro-test-token-issuer";

/** The file a docker-registry with filesystem storage serves a blob from. */
export function registryDataFile(registry: TestRegistry, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return join(registry.storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

export async function startRegistry(
  options: {
    tokenAuth?: boolean;
    basicAuth?: boolean;
    /** The registry answers blob downloads with a redirect to this origin (its storage path appended), as a CDN-backed registry does. */
    redirectBlobsTo?: string;
  } = {},
): Promise<TestRegistry> {
  // The pyro-t- prefix lets the global teardown catch a registry a test forgot to stop.
  const dir = mkdtempSync("/tmp/pyro-t-registry-");
  const storageDir = join(dir, "storage");
  const configPath = join(dir, "config.yml");
  let host = "";
  let tokenServer: TokenServer | null = null;
  let basic: Htpasswd | null = null;
  let running: ChildProcess | null = null;
  try {
    if (options.tokenAuth) tokenServer = await startTokenServer(dir);
    if (options.basicAuth) basic = makeHtpasswd(dir);
    // Test files start registries in parallel: a port another registry took between freePort()
    // and this one's bind would let the probe reach the wrong registry, so the listener must be ours.
    for (let attempt = 0; running === null; attempt++) {
      host = `127.0.0.1:${await freePort()}`;
      writeFileSync(
        configPath,
        registryConfig(storageDir, host, tokenServer, basic, options.redirectBlobsTo ?? null),
      );
      const child = await serve(configPath, host).catch((error: unknown) => {
        if (attempt >= 4) throw error;
        return null;
      });
      if (child !== null && listensOn(child, host)) running = child;
      else if (child !== null) await kill(child);
    }
  } catch (error) {
    await tokenServer?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let current: ChildProcess = running;
  const server = tokenServer;
  return {
    host,
    storageDir,
    token: server?.credentials ?? basic?.credentials,
    crash: () => kill(current),
    async restart() {
      await kill(current);
      current = await serve(configPath, host);
    },
    async stop() {
      await kill(current);
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serve(configPath: string, host: string): Promise<ChildProcess> {
  const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 256) stderr.push(chunk);
  });
  try {
    await waitUntilServing(host, child, () => Buffer.concat(stderr).toString("utf8"));
  } catch (error) {
    await kill(child);
    throw error;
  }
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

function registryConfig(
  storageDir: string,
  host: string,
  token: TokenServer | null,
  basic: Htpasswd | null,
  redirect: string | null,
): string {
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
  if (redirect)
    lines.push(
      "middleware:",
      "  storage:",
      "    - name: redirect",
      "      options:",
      `        baseurl: ${redirect}`,
    );
  if (basic) lines.push("auth:", "  htpasswd:", "    realm: pyro-test", `    path: ${basic.path}`);
  return `${lines.join("\n")}\n`;
}

interface Htpasswd {
  path: string;
  credentials: { username: string; password: string };
}

function makeHtpasswd(dir: string): Htpasswd {
  const credentials = { username: "pyro-basic", password: randomBytes(12).toString("hex") };
  const hash = execFileSync(
    "python3",
    [
      "-c",
      "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
      credentials.password,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  ).trim();
  if (!hash.startsWith("$2")) throw new Error("python3's crypt made no bcrypt hash");
  const path = join(dir, "htpasswd");
  writeFileSync(path, `${credentials.username}:${hash}\n`);
  return { path, credentials };
}

/** True when `child` holds the listening socket of `host` (found through /proc/net/tcp and its fds). */
function listensOn(child: ChildProcess, host: string): boolean {
  const port = Number(host.slice(host.lastIndexOf(":") + 1))
    .toString(16)
    .toUpperCase()
    .padStart(4, "0");
  const inodes = new Set<string>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(`:${port}`) && fields[3] === "0A" && fields[9] !== undefined)
      inodes.add(fields[9]);
  }
  const fdDir = `/proc/${child.pid}/fd`;
  return readdirSync(fdDir).some((fd) => {
    try {
      return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(join(fdDir, fd)))?.[1] ?? "");
    } catch {
      return false;
    }
  });
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
