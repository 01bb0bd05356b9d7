import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOG, PyroError } from "../../src/errors/index.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import { childProcesses, treeFingerprint } from "./host-state.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;

/**
 * Hand-made tar bombs given as a seed or a sync source: huge declared sizes, gzip bombs, floods of
 * tiny entries, deep nesting and sparse entries. Each is refused before anything is unpacked, no
 * workspace is left from a refused create, and the host outside the workspace is unchanged.
 */
describe("tar bombs into seed and sync", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  let workspaceBefore: string;
  const workspaceFolder = (): string => join(sandboxDir(home.home, id), "vm");

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-hb-");
    id = (await pyro.createWorkspace({ ...HOST })).workspace_id;
    await pyro.execWorkspace({ workspaceId: id, command: "echo kept > kept.txt" });
    workspaceBefore = JSON.stringify(
      (await pyro.listWorkspaceFiles({ workspaceId: id, path: ".", recursive: true })).entries,
    );
  });
  afterEach(() => {
    delete process.env.PYRO_MAX_SEED_BYTES;
    delete process.env.PYRO_MAX_ARCHIVE_ENTRIES;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(id)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  /** Seeds a new workspace and pushes into the existing one; both must fail with `code`. */
  const refusedEverywhere = async (archive: string, code: string, words: string): Promise<void> => {
    const workspaces = readdirSync(join(home.home, "sandboxes")).sort();
    const hostBefore = treeFingerprint(scratch);
    const started = performance.now();
    for (const attempt of [
      () => pyro.createWorkspace({ ...HOST, seedPath: archive }),
      () => pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: archive }),
    ]) {
      const refused = await attempt().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(PyroError);
      expect((refused as PyroError).code).toBe(code);
      expect((refused as PyroError).message).toContain(words);
    }
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(readdirSync(join(home.home, "sandboxes")).sort()).toEqual(workspaces);
    const entries = await pyro.listWorkspaceFiles({ workspaceId: id, path: ".", recursive: true });
    expect(JSON.stringify(entries.entries)).toBe(workspaceBefore);
    expect(existsSync(workspaceFolder())).toBe(true);
    expect(treeFingerprint(scratch)).toBe(hostBefore);
    expect(childProcesses()).toEqual([]);
  };

  it("refuses an entry declaring 100 GiB at its header, without reading on", async () => {
    const archive = join(scratch, "huge.tar");
    writeFileSync(archive, Buffer.concat([header("huge.bin", 100 * 1024 ** 3), Buffer.alloc(4096)]));
    await refusedEverywhere(archive, "LIMIT_EXCEEDED", "PYRO_MAX_SEED_BYTES");
  });

  it("refuses a gzip bomb (256 MiB of zeros in a few hundred KiB) before inflating it", async () => {
    process.env.PYRO_MAX_SEED_BYTES = "16M";
    const archive = join(scratch, "bomb.tar.gz");
    const size = 256 * 1024 * 1024;
    async function* body(): AsyncGenerator<Buffer> {
      yield header("zeros.bin", size);
      const zeros = Buffer.alloc(1024 * 1024);
      for (let sent = 0; sent < size; sent += zeros.length) yield zeros;
      yield Buffer.alloc(1024);
    }
    await pipeline(Readable.from(body()), createGzip({ level: 1 }), createWriteStream(archive));
    await refusedEverywhere(archive, "LIMIT_EXCEEDED", "PYRO_MAX_SEED_BYTES");
  });

  it("bounds the number of entries (PYRO_MAX_ARCHIVE_ENTRIES)", async () => {
    process.env.PYRO_MAX_ARCHIVE_ENTRIES = "1000";
    const archive = join(scratch, "flood.tar");
    const blocks: Buffer[] = [];
    for (let index = 0; index < 1500; index += 1) blocks.push(header(`f${index}`, 0));
    writeFileSync(archive, Buffer.concat([...blocks, Buffer.alloc(1024)]));
    await refusedEverywhere(archive, "LIMIT_EXCEEDED", "PYRO_MAX_ARCHIVE_ENTRIES");
  });

  it("refuses nesting deeper than 256 levels", async () => {
    const archive = join(scratch, "deep.tar");
    const name = `${Array.from({ length: 300 }, () => "d").join("/")}/f`;
    writeFileSync(archive, Buffer.concat([...paxEntry(name, 1, "x"), Buffer.alloc(1024)]));
    await refusedEverywhere(archive, "ARCHIVE_UNSAFE", "nested more than 256 levels");
  });

  it("refuses GNU sparse entries, whose real size is not what they store", async () => {
    const archive = join(scratch, "sparse.tar");
    writeFileSync(archive, Buffer.concat([header("sparse.bin", 0, "S"), Buffer.alloc(1024)]));
    await refusedEverywhere(archive, "ARCHIVE_UNSAFE", "not supported");
  });

  it("CLI: a bomb pushed with `workspace sync push` exits with LIMIT_EXCEEDED's code, naming the setting", async () => {
    const archive = join(scratch, "cli-huge.tar");
    writeFileSync(archive, Buffer.concat([header("huge.bin", 100 * 1024 ** 3), Buffer.alloc(4096)]));
    const result = await runPyro(["workspace", "sync", "push", id, archive]);
    expect(result.code).toBe(ERROR_CATALOG.LIMIT_EXCEEDED.exit);
    expect(result.stderr).toContain("LIMIT_EXCEEDED");
    expect(result.stderr).toContain("PYRO_MAX_SEED_BYTES");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const entries = await pyro.listWorkspaceFiles({ workspaceId: id, path: ".", recursive: true });
    expect(JSON.stringify(entries.entries)).toBe(workspaceBefore);
    expect(childProcesses()).toEqual([]);
  });

  it("MCP: a snapshot over PYRO_MAX_SNAPSHOT_BYTES is a LIMIT_EXCEEDED tool error and leaves no archive", async () => {
    await pyro.execWorkspace({ workspaceId: id, command: "head -c 3000000 /dev/zero > filler.bin" });
    process.env.PYRO_MAX_SNAPSHOT_BYTES = "1M";
    const client = await connectMcp("workspace-full");
    try {
      const result = await client.callTool({
        name: "snapshot_create",
        arguments: { workspace_id: id, snapshot_name: "over" },
      });
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: "LIMIT_EXCEEDED" } });
      expect(JSON.stringify(result.content)).toContain("PYRO_MAX_SNAPSHOT_BYTES");
    } finally {
      await client.close();
      delete process.env.PYRO_MAX_SNAPSHOT_BYTES;
      await pyro.execWorkspace({ workspaceId: id, command: "rm filler.bin" });
    }
    expect(readdirSync(join(sandboxDir(home.home, id), "snapshots"))).toEqual([]);
    expect((await pyro.listSnapshots({ workspaceId: id })).count).toBe(0);
  });

  it("refuses a directory source over PYRO_MAX_SEED_BYTES", async () => {
    process.env.PYRO_MAX_SEED_BYTES = "1M";
    const source = join(scratch, "tree");
    mkdirSync(source);
    writeFileSync(join(source, "two-mib"), Buffer.alloc(2 * 1024 * 1024));
    await refusedEverywhere(source, "LIMIT_EXCEEDED", "PYRO_MAX_SEED_BYTES");
  });
});

/** A ustar header; sizes past the octal field use the base-256 form, as GNU tar does. */
function header(name: string, size: number, type = "0"): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, "utf8");
  block.write("0000644\0", 100);
  block.write("0000000\0", 108);
  block.write("0000000\0", 116);
  if (size < 8 ** 11) block.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  else {
    block[124] = 0x80;
    for (let index = 135, rest = size; index > 124; index -= 1, rest = Math.floor(rest / 256))
      block[index] = rest % 256;
  }
  block.write("00000000000\0", 136);
  block.write(type, 156);
  block.write("ustar\0", 257);
  block.write("00", 263);
  block.write("        ", 148);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return block;
}

/** A pax extended header carrying a long path, then the entry itself with `size` bytes of data. */
function paxEntry(path: string, size: number, fill: string): Buffer[] {
  const record = (text: string): string => {
    let length = text.length + 3;
    while (`${length} ${text}\n`.length !== length) length = `${length} ${text}\n`.length;
    return `${length} ${text}\n`;
  };
  const body = Buffer.from(record(`path=${path}`));
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  const data = Buffer.alloc(Math.ceil(size / 512) * 512);
  data.write(fill.repeat(size));
  return [header("PaxHeader", body.length, "x"), padded, header("placeholder", size), data];
}
