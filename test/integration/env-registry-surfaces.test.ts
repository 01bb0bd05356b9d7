import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { packageVersion } from "../../src/platform/package-info.js";
import type { ProgressReport } from "../../src/platform/phases.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { BUSYBOX_ENVIRONMENT, installBusyboxEnvironment } from "../helpers/busybox-environment.js";
import { CLI } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { buildBusyboxImage, sharedKernelDonor } from "../helpers/oci-images.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

/**
 * env_pull, env_push, env_import, env_verify and the environment listing on the three surfaces,
 * against real registries (Debian's docker-registry, one anonymous, one checking Basic
 * credentials) and the 64 MiB busybox environment. Each surface pulls into a cache of its own.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

/** The built CLI as a child with piped stdio (stdin is written, then closed). */
function pyro(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T })),
  );
}

/** Flips one byte of a file in place (its size stays the same). */
function flipByte(path: string, offset: number): void {
  const fd = openSync(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

const PROGRESS_LINE =
  /^\[(\w+)\] phase=(\w+) done_bytes=(\d+) total_bytes=(\d+) cached_bytes=(\d+) rate_mb_s=[\d.]+$/;

/** The non-TTY progress lines of a run's stderr: scope, phase and byte counts. */
function progressLines(
  stderr: string,
): Array<{ scope: string; phase: string; done: number; total: number; cached: number }> {
  return stderr.split("\n").flatMap((line) => {
    const match = PROGRESS_LINE.exec(line);
    if (!match) return [];
    return [
      {
        scope: match[1] ?? "",
        phase: match[2] ?? "",
        done: Number(match[3]),
        total: Number(match[4]),
        cached: Number(match[5]),
      },
    ];
  });
}

const DIGEST = /sha256:[0-9a-f]{64}/;

let work: string;
let home: ReturnType<typeof useTempPyroHome>;
let busybox: Awaited<ReturnType<typeof installBusyboxEnvironment>>;
let open: TestRegistry;
let locked: TestRegistry;
let layout: string;
let kernelDir: string;
/** Where the CLI's pushes go, and the manifest digest they made. */
let reference: string;
let pushedDigest: string;
const caches: Record<"cli" | "sdk" | "mcp" | "auth", string> = { cli: "", sdk: "", mcp: "", auth: "" };

beforeAll(async () => {
  home = useTempPyroHome();
  busybox = await installBusyboxEnvironment();
  work = mkdtempSync("/tmp/pyro-env-surfaces-");
  for (const name of Object.keys(caches) as Array<keyof typeof caches>) {
    caches[name] = join(work, `cache-${name}`);
    mkdirSync(caches[name]);
  }
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ basicAuth: true })]);
  reference = `${open.host}/pyro/busybox:1`;
  layout = join(work, "layout");
  buildBusyboxImage(work, layout);
  kernelDir = sharedKernelDonor().dir;
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
  busybox?.cleanup();
  home?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("CLI: env push, pull, verify, import and list", () => {
  it("pushes: the human lines, then --json with nothing uploaded the registry already has", async () => {
    const human = await pyro(["env", "push", BUSYBOX_ENVIRONMENT, reference, "--insecure"]);
    expect(human.stderr).not.toContain("error [");
    expect(human.code).toBe(0);
    const first = new RegExp(`^pushed ${BUSYBOX_ENVIRONMENT} to ${reference}@(sha256:[0-9a-f]{64})$`, "m");
    expect(human.stdout).toMatch(first);
    pushedDigest = first.exec(human.stdout)?.[1] ?? "";
    for (const role of ["kernel", "initramfs", "rootfs"]) {
      expect(human.stdout).toMatch(new RegExp(`^  ${role} +sha256:[0-9a-f]{64} \\d+ bytes$`, "m"));
    }
    const uploaded = /^uploaded (\d+) of (\d+) bytes/m.exec(human.stdout);
    expect(Number(uploaded?.[1])).toBeGreaterThan(1_000_000);
    expect(uploaded?.[1]).toBe(uploaded?.[2]);
    expect(human.stderr).toMatch(/^\[push\] phase=upload reference=\S+ blobs=4 total_bytes=\d+$/m);
    expect(progressLines(human.stderr).filter((line) => line.phase === "upload").length).toBeGreaterThan(0);

    const again = await pyro(["env", "push", BUSYBOX_ENVIRONMENT, reference, "--insecure", "--json"]);
    expect(again.code).toBe(0);
    const result = again.json<{
      environment: string;
      reference: string;
      digest: string;
      layers: Array<{ role: string; digest: string; size: number }>;
      uploaded_bytes: number;
      total_bytes: number;
    }>();
    expect(Object.keys(result).sort()).toEqual(
      ["digest", "environment", "layers", "reference", "total_bytes", "uploaded_bytes"].sort(),
    );
    expect(result).toMatchObject({ environment: BUSYBOX_ENVIRONMENT, reference, digest: pushedDigest });
    expect(result.layers.map((layer) => layer.role)).toEqual(["kernel", "initramfs", "rootfs"]);
    expect(result.uploaded_bytes).toBe(0);
    expect(result.total_bytes).toBe(Number(uploaded?.[2]));
    const skipped = progressLines(again.stderr).at(-1);
    expect(skipped).toMatchObject({ phase: "upload", done: result.total_bytes, cached: result.total_bytes });
  });

  it("pulls with byte-count phase lines on stderr (no bar off a terminal), then --json from the cache", async () => {
    const env = { PYRO_ENVIRONMENT_CACHE_DIR: caches.cli };
    const human = await pyro(["env", "pull", reference, "--insecure"], { env });
    expect(human.stderr).not.toContain("error [");
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n")[0]).toBe(`pulled: ${reference}@${pushedDigest}`);
    expect(human.stdout).toMatch(new RegExp(`^name +${BUSYBOX_ENVIRONMENT}$`, "m"));
    expect(human.stdout).toMatch(new RegExp(`^source +pulled from ${reference}@${pushedDigest}`, "m"));
    expect(human.stderr).toMatch(
      /^\[pull\] phase=fetch environment=busybox-test .*blobs=3 total_bytes=\d+$/m,
    );
    const fetched = progressLines(human.stderr).filter((line) => line.phase === "fetch");
    expect(fetched.length).toBeGreaterThan(0);
    const last = fetched.at(-1);
    expect(last?.total).toBeGreaterThan(1_000_000);
    expect(last?.done).toBe(last?.total);
    expect(last?.cached).toBe(0);
    expect(human.stderr).not.toContain("\r");
    expect(human.stderr).not.toContain("\u001b[");

    const cached = await pyro(["env", "pull", reference, "--insecure", "--json"], { env });
    expect(cached.code).toBe(0);
    const outcome = cached.json<{
      name: string;
      installed: boolean;
      artifacts: Array<{ role: string; sha256: string }>;
      provenance: unknown;
      pull: { source: string; reference: string; digest: string; note: string | null };
    }>();
    expect(outcome.pull).toEqual({ source: "cached", reference, digest: pushedDigest, note: null });
    expect(outcome).toMatchObject({
      name: BUSYBOX_ENVIRONMENT,
      installed: true,
      provenance: { kind: "pulled", reference, manifest_digest: pushedDigest },
    });
    // Push then pull on another cache: the same artifacts.
    const original = await pyro(["env", "inspect", BUSYBOX_ENVIRONMENT, "--json"]);
    expect(outcome.artifacts).toEqual(original.json<{ artifacts: unknown }>().artifacts);
  });

  it("draws a live bar on a terminal, and ends its line before the next phase line", async () => {
    // `script` gives the CLI a pseudo-terminal for stdout and stderr; its output is what a user sees.
    const cache = join(work, "cache-tty");
    const command = [process.execPath, CLI, "env", "pull", reference, "--insecure"].join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, PYRO_ENVIRONMENT_CACHE_DIR: cache, COLUMNS: "120" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let seen = "";
    child.stdout.on("data", (chunk: Buffer) => (seen += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    const bars = seen.split("\r").filter((piece) => piece.startsWith("[pull] fetch ["));
    expect(bars.length).toBeGreaterThan(0);
    const [last = "", rest] = (bars.at(-1) ?? "").split("\u001b[K");
    expect(last).toMatch(/^\[pull\] fetch \[#{28}\] (\d+\.\d)\/\1 MB [\d.]+ MB\/s$/);
    expect(rest).toMatch(/^\n?$/);
    expect(seen).not.toMatch(/phase=fetch done_bytes=/);
    for (const line of seen.split("\n").filter((text) => text.includes("phase=unpack"))) {
      expect(line.replace(/\r$/, "")).toMatch(/^\[pull\] phase=unpack /);
    }
    expect(seen).toContain(`pulled: ${reference}@${pushedDigest}`);
  });

  it("verifies: human and --json, then ENVIRONMENT_CORRUPT (exit 66) with a hint once a byte of the root image flips", async () => {
    const env = { PYRO_ENVIRONMENT_CACHE_DIR: caches.cli };
    const human = await pyro(["env", "verify", BUSYBOX_ENVIRONMENT], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^busybox-test: every artifact matches its manifest$/m);
    expect(human.stdout).toMatch(/^ {2}ok {2}rootfs +rootfs\.ext4 sha256:[0-9a-f]{64}$/m);
    expect(human.stdout.trimEnd().split("\n").at(-1)).toBe(
      `source: pulled from ${reference}@${pushedDigest}`,
    );
    const json = await pyro(["env", "verify", BUSYBOX_ENVIRONMENT, "--json"], { env });
    const report = json.json<{
      environment: string;
      ok: boolean;
      files: Array<{ role: string; ok: boolean }>;
      provenance: unknown;
    }>();
    expect(report).toMatchObject({
      environment: BUSYBOX_ENVIRONMENT,
      ok: true,
      provenance: { kind: "pulled", reference, manifest_digest: pushedDigest },
    });
    expect(report.files.map((file) => [file.role, file.ok])).toEqual([
      ["kernel", true],
      ["initramfs", true],
      ["rootfs", true],
    ]);

    const inspect = await pyro(["env", "inspect", BUSYBOX_ENVIRONMENT, "--json"], { env });
    flipByte(inspect.json<{ rootfs_image: string }>().rootfs_image, 1024 + 56); // the ext4 superblock's magic
    const damaged = await pyro(["env", "verify", BUSYBOX_ENVIRONMENT], { env });
    expect(damaged.code).toBe(66);
    expect(damaged.stderr).toMatch(
      /^error \[ENVIRONMENT_CORRUPT\]: Environment busybox-test does not match its manifest: rootfs\.ext4\.$/m,
    );
    expect(damaged.stderr).toMatch(/^hint: .*pyro env pull busybox-test --force/m);
    const damagedJson = await pyro(["env", "verify", BUSYBOX_ENVIRONMENT, "--json"], { env });
    expect(damagedJson.code).toBe(66);
    expect(damagedJson.json()).toMatchObject({
      error: { code: "ENVIRONMENT_CORRUPT", hint: expect.stringContaining("--force") as unknown },
    });
  });

  it("reads --password-stdin against a registry that checks Basic credentials", async () => {
    const credentials = locked.token;
    if (!credentials) throw new Error("the registry has no credentials");
    const target = `${locked.host}/team/busybox:1`;
    const login = ["--insecure", "--username", credentials.username, "--password-stdin"];
    const anonymous = await pyro(["env", "push", BUSYBOX_ENVIRONMENT, target, "--insecure"]);
    expect(anonymous.code).toBe(86);
    expect(anonymous.stderr).toContain("error [REGISTRY_AUTH_FAILED]");
    const wrong = await pyro(["env", "push", BUSYBOX_ENVIRONMENT, target, ...login], { stdin: "not-it\n" });
    expect(wrong.code).toBe(86);
    const pushed = await pyro(["env", "push", BUSYBOX_ENVIRONMENT, target, ...login, "--json"], {
      stdin: `${credentials.password}\n`,
    });
    expect(pushed.stderr).not.toContain("error [");
    expect(pushed.json()).toMatchObject({ reference: target, digest: pushedDigest });
    const pulled = await pyro(["env", "pull", target, ...login, "--json"], {
      stdin: credentials.password,
      env: { PYRO_ENVIRONMENT_CACHE_DIR: caches.auth },
    });
    expect(pulled.code).toBe(0);
    expect(pulled.json()).toMatchObject({ pull: { source: "registry", digest: pushedDigest } });
    const empty = await pyro(["env", "pull", target, ...login], { stdin: "\n" });
    expect(empty.code).toBe(64);
    expect(empty.stderr).toContain("--password-stdin read an empty password");
  });

  it("imports an image: human output from an OCI layout, --json from the Basic-auth registry with --password-stdin", async () => {
    const credentials = locked.token;
    if (!credentials) throw new Error("the registry has no credentials");
    const env = { PYRO_ENVIRONMENT_CACHE_DIR: caches.cli, PYRO_IMPORT_KERNEL_DIR: kernelDir };
    const human = await pyro(["env", "import", `oci:${layout}:app`, "--name", "busybox:layout"], { env });
    expect(human.stderr).not.toContain("error [");
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^name +busybox:layout$/m);
    expect(human.stdout).toMatch(/^image user +app \(1000:1000\)$/m);
    expect(human.stdout).toMatch(/^image workdir +\/home\/app$/m);
    expect(human.stdout).toMatch(
      new RegExp(`^source +imported from oci:${layout}:app@sha256:[0-9a-f]{64}`, "m"),
    );
    expect(human.stderr).toMatch(/^\[import\] phase=installed /m);

    const image = `${locked.host}/images/busybox:app`;
    execFileSync("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${credentials.username}:${credentials.password}`,
      `oci:${layout}:app`,
      `docker://${image}`,
    ]);
    const imported = await pyro(
      [
        "env",
        "import",
        image,
        "--name",
        "busybox:registry",
        "--insecure",
        "--username",
        credentials.username,
        "--password-stdin",
        "--json",
      ],
      { env, stdin: `${credentials.password}\n` },
    );
    expect(imported.stderr).not.toContain("error [");
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({
      name: "busybox:registry",
      installed: true,
      source: "import",
      provenance: {
        kind: "imported",
        reference: image,
        manifest_digest: expect.stringMatching(DIGEST) as unknown,
      },
      image: { working_dir: "/home/app", user: { spec: "app", uid: 1000, gid: 1000 } },
    });
    const fetched = progressLines(imported.stderr).filter((line) => line.scope === "import");
    expect(fetched.at(-1)?.done).toBe(fetched.at(-1)?.total);
  });

  it("lists environments under a `Catalog version:` first line, and --json carries catalog_version and registry", async () => {
    const registry = `http://${open.host}/pyro`;
    const env = { PYRO_ENVIRONMENT_CACHE_DIR: caches.cli, PYRO_ENVIRONMENT_REGISTRY: registry };
    const human = await pyro(["env", "list"], { env });
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`Catalog version: ${packageVersion()}`);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(
      expect.arrayContaining(["debian:12", "debian:12-base", "debian:12-build", "busybox:layout"]),
    );
    const listing = (await pyro(["env", "list", "--json"], { env })).json<{
      catalog_version: string;
      registry: string | null;
      environments: Array<{ name: string }>;
      count: number;
    }>();
    expect(listing.catalog_version).toBe(packageVersion());
    expect(listing.registry).toBe(registry);
    expect(listing.count).toBe(listing.environments.length);
    expect(Object.keys(listing).sort()).toEqual(["catalog_version", "count", "environments", "registry"]);
  });
});

/** Runs `body` with the process's environment cache set to `dir` (the SDK works in this process). */
async function withCache<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const previous = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = dir;
  try {
    return await body();
  } finally {
    process.env.PYRO_ENVIRONMENT_CACHE_DIR = previous;
  }
}

describe("SDK: pullEnvironment, pushEnvironment, importEnvironment, verifyEnvironment, listEnvironments", () => {
  const pyroSdk = (): Pyro => new Pyro({ home: home.home });

  it("pulls with progress reports, verifies, pushes sharing the registry's blobs, and throws ENVIRONMENT_CORRUPT once damaged", async () => {
    await withCache(caches.sdk, async () => {
      const sdk = pyroSdk();
      const reports: ProgressReport[] = [];
      const pulled = await sdk.pullEnvironment(
        { environment: reference, insecure: true },
        { onProgress: (report) => reports.push({ ...report }) },
      );
      expect(pulled.pull).toEqual({ source: "registry", reference, digest: pushedDigest, note: null });
      expect(pulled.install_dir.startsWith(caches.sdk)).toBe(true);
      expect(reports.length).toBeGreaterThan(0);
      expect(new Set(reports.map((report) => report.phase))).toEqual(new Set(["fetch"]));
      const done = reports.map((report) => report.done_bytes);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(reports.at(-1)?.done_bytes).toBe(reports.at(-1)?.total_bytes);

      const report = await sdk.verifyEnvironment({ environment: BUSYBOX_ENVIRONMENT });
      expect(report).toMatchObject({ ok: true, origin: `pulled from ${reference}@${pushedDigest}` });

      const uploads: ProgressReport[] = [];
      const pushed = await sdk.pushEnvironment(
        { environment: BUSYBOX_ENVIRONMENT, reference: `${open.host}/pyro/busybox:sdk`, insecure: true },
        { onProgress: (progress) => uploads.push({ ...progress }) },
      );
      // Only the config (its manifest.json now says where it was pulled from) is new to the registry.
      expect(pushed.uploaded_bytes).toBeGreaterThan(0);
      expect(pushed.uploaded_bytes).toBeLessThan(16_384);
      expect(uploads.at(-1)).toMatchObject({
        phase: "upload",
        done_bytes: pushed.total_bytes,
        cached_bytes: pushed.total_bytes - pushed.uploaded_bytes,
      });

      flipByte(pulled.kernel_image ?? "", 4096);
      const failure = await sdk
        .verifyEnvironment({ environment: BUSYBOX_ENVIRONMENT })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PyroError);
      expect(failure).toMatchObject({ code: "ENVIRONMENT_CORRUPT", exitCode: 66 });
      expect((failure as PyroError).hint).toContain(`pyro env pull ${BUSYBOX_ENVIRONMENT} --force`);
    });
  });

  it("imports an OCI layout and lists the catalog version", async () => {
    const previousKernel = process.env.PYRO_IMPORT_KERNEL_DIR;
    process.env.PYRO_IMPORT_KERNEL_DIR = kernelDir;
    try {
      await withCache(caches.sdk, async () => {
        const sdk = pyroSdk();
        const imported = await sdk.importEnvironment({ image: `oci:${layout}:app`, name: "busybox:sdk" });
        expect(imported).toMatchObject({
          name: "busybox:sdk",
          installed: true,
          provenance: { kind: "imported", reference: `oci:${layout}:app` },
          image: { env: expect.arrayContaining(["GREETING=hello world"]) as unknown },
        });
        const listing = await sdk.listEnvironments();
        expect(listing.catalog_version).toBe(packageVersion());
        expect(listing.environments.map((env) => env.name)).toContain("busybox:sdk");
      });
    } finally {
      if (previousKernel === undefined) delete process.env.PYRO_IMPORT_KERNEL_DIR;
      else process.env.PYRO_IMPORT_KERNEL_DIR = previousKernel;
    }
  });
});

describe("MCP: env_pull with progress notifications, env_push, env_verify, env_import", () => {
  let client: Client;
  let allowed: string;
  beforeAll(async () => {
    allowed = join(work, "allowed");
    mkdirSync(allowed);
    client = await connectMcp("workspace-full", [], {
      cwd: allowed,
      env: { PYRO_ENVIRONMENT_CACHE_DIR: caches.mcp, PYRO_IMPORT_KERNEL_DIR: kernelDir },
    });
  });
  afterAll(async () => client?.close());

  it("sends notifications/progress with progress and total to a caller that gave a progressToken", async () => {
    const notes: Progress[] = [];
    const result = (await client.callTool(
      { name: "env_pull", arguments: { environment: reference, insecure: true } },
      undefined,
      { onprogress: (progress) => notes.push(progress) },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      name: BUSYBOX_ENVIRONMENT,
      pull: { source: "registry", reference, digest: pushedDigest },
    });
    expect((result.content[0] as { text: string }).text.split("\n")[0]).toBe(
      `pulled: ${reference}@${pushedDigest}`,
    );
    expect(notes.length).toBeGreaterThan(0);
    for (const note of notes) {
      expect(typeof note.progress).toBe("number");
      expect(note.total).toBeGreaterThan(1_000_000);
    }
    const progress = notes.map((note) => note.progress);
    expect(new Set(progress).size).toBe(progress.length); // strictly increasing, as the spec asks
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(notes.at(-1)?.progress).toBe(notes.at(-1)?.total);
  });

  it("verifies and pushes with structured results, and reports a damaged entry as ENVIRONMENT_CORRUPT", async () => {
    const verified = (await client.callTool({
      name: "env_verify",
      arguments: { environment: BUSYBOX_ENVIRONMENT },
    })) as CallToolResult;
    expect(verified.structuredContent).toMatchObject({ environment: BUSYBOX_ENVIRONMENT, ok: true });
    expect((verified.content[0] as { text: string }).text).toContain("every artifact matches its manifest");

    const pushed = (await client.callTool({
      name: "env_push",
      arguments: {
        environment: BUSYBOX_ENVIRONMENT,
        reference: `${open.host}/pyro/busybox:mcp`,
        insecure: true,
      },
    })) as CallToolResult;
    expect(pushed.isError).toBeFalsy();
    expect(pushed.structuredContent).toMatchObject({
      environment: BUSYBOX_ENVIRONMENT,
      reference: `${open.host}/pyro/busybox:mcp`,
      digest: expect.stringMatching(DIGEST) as unknown,
    });

    const details = (await client.callTool({
      name: "env_inspect",
      arguments: { environment: BUSYBOX_ENVIRONMENT },
    })) as CallToolResult;
    flipByte((details.structuredContent as { initramfs: string }).initramfs, 100);
    const damaged = (await client.callTool({
      name: "env_verify",
      arguments: { environment: BUSYBOX_ENVIRONMENT },
    })) as CallToolResult;
    expect(damaged.isError).toBe(true);
    expect((damaged.content[0] as { text: string }).text).toMatch(/^ENVIRONMENT_CORRUPT: /);
    expect(damaged.structuredContent).toMatchObject({
      error: { code: "ENVIRONMENT_CORRUPT", hint: expect.stringContaining("--force") as unknown },
    });

    // What the hint says works: a forced pull installs sound files again.
    const repaired = (await client.callTool({
      name: "env_pull",
      arguments: { environment: reference, insecure: true, force: true },
    })) as CallToolResult;
    expect(repaired.isError).toBeFalsy();
    const again = (await client.callTool({
      name: "env_verify",
      arguments: { environment: BUSYBOX_ENVIRONMENT },
    })) as CallToolResult;
    expect(again.structuredContent).toMatchObject({ ok: true });
  });

  it("imports an OCI layout only from a folder the server allows", async () => {
    const denied = (await client.callTool({
      name: "env_import",
      arguments: { image: `oci:${layout}:app`, name: "busybox:mcp" },
    })) as CallToolResult;
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toMatchObject({ error: { code: "HOST_PATH_DENIED" } });

    const inside = join(allowed, "layout");
    cpSync(layout, inside, { recursive: true });
    const imported = (await client.callTool({
      name: "env_import",
      arguments: { image: `oci:${inside}:app`, name: "busybox:mcp" },
    })) as CallToolResult;
    expect(imported.isError).toBeFalsy();
    expect(imported.structuredContent).toMatchObject({
      name: "busybox:mcp",
      installed: true,
      provenance: { kind: "imported", reference: `oci:${inside}:app` },
    });
    expect((imported.content[0] as { text: string }).text).toMatch(/^image workdir +\/home\/app$/m);
  });
});
