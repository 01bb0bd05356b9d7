import { statfsSync } from "node:fs";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { installedGuestKernel } from "../guest/guest-env.js";
import { runPyro } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { childProcesses, treeFingerprint } from "./host-state.js";

let pyro: Pyro;

/** What the guest names things: every shape a Linux name can take, and one that imitates a listing line. */
const NAMES: ReadonlyArray<{ bytes: Buffer; shown: string }> = [
  { bytes: Buffer.from("nl\nx"), shown: "nl\\x0ax" },
  { bytes: Buffer.from("ctl\x01\x1b[31m"), shown: "ctl\\x01\\x1b[31m" },
  { bytes: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]), shown: "bad\\xff\\xfe" },
  { bytes: Buffer.from("back\\slash"), shown: "back\\x5cslash" },
  { bytes: Buffer.from("L".repeat(255)), shown: "L".repeat(255) },
  { bytes: Buffer.from("-dash"), shown: "-dash" },
  { bytes: Buffer.from('q"uote'), shown: 'q"uote' },
  { bytes: Buffer.from("ünï©ode"), shown: "ünï©ode" },
  {
    bytes: Buffer.from("x\n     99  100644 (1)      0      0      5  1-Jan-2020 00:00 evil"),
    shown: "x\\x0a     99  100644 (1)      0      0      5  1-Jan-2020 00:00 evil",
  },
];

/**
 * The guest names files to hide or forge entries in the offline disk tools, and plants a huge
 * sparse file to make `disk read` pull it all out. Names must come back escaped, all of them, none
 * invented; reads must stop at the cap inside debugfs.
 */
describe("hostile guest vs offline disk tools", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let before: string;
  let id: string;

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-hd-");
    mkdirSync(join(scratch, "sentinel"));
    writeFileSync(join(scratch, "sentinel", "keep"), "keep");
    before = treeFingerprint(scratch);
    const guestKernel = await installedGuestKernel();
    expect(guestKernel).not.toBe(release());
    id = (await pyro.createWorkspace({ memMib: 512 })).workspace_id;
    const names = NAMES.map(
      ({ bytes }) => `"${[...bytes].map((byte) => `\\x{${byte.toString(16)}}`).join("")}"`,
    );
    const made = await pyro.execWorkspace({
      workspaceId: id,
      timeoutSeconds: 120,
      command: [
        "perl",
        "-e",
        `mkdir "names"; chdir "names" or die;
         for my $n (${names.join(", ")}) {
           mkdir $n or die "$n: $!"; open(my $f, ">", "$n/hidden.txt") or die; print $f "inside"; close $f;
         }
         chdir ".." or die;
         open(my $big, ">", "big.bin") or die; truncate($big, 64 * 1024 ** 3) or die; close $big;
         print \`uname -r\`;`,
      ],
    });
    expect(made.stdout.trim()).toBe(guestKernel);
    await pyro.stopWorkspace({ workspaceId: id });
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(`pyro-${id}`)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  const unchanged = (): void => {
    expect(treeFingerprint(scratch)).toBe(before);
    expect(childProcesses()).toEqual([]);
  };

  it("lists every name escaped, with the contents of a directory whose name holds a newline, and forges none", async () => {
    const listing = await pyro.listWorkspaceDisk({ workspaceId: id, path: "names", recursive: true });
    const paths = listing.entries.map((entry) => entry.path);
    expect(listing.truncated).toBe(false);
    expect(paths).toHaveLength(2 * NAMES.length);
    for (const { shown } of NAMES) {
      expect(paths).toContain(`/workspace/names/${shown}`);
      expect(paths).toContain(`/workspace/names/${shown}/hidden.txt`);
    }
    const control = (path: string): boolean =>
      [...path].some((char) => char.charCodeAt(0) < 0x20 || char === "\x7f");
    expect(paths.some(control)).toBe(false);
    expect(paths).not.toContain("/workspace/names/evil");
    unchanged();
  });

  it("prints one line per entry on the CLI", async () => {
    const result = await runPyro(["workspace", "disk", "list", id, "names"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(NAMES.length);
    expect(result.stdout).toContain("/workspace/names/nl\\x0ax");
    unchanged();
  });

  it("reads a file inside the newline-named directory by its shown path", async () => {
    const read = await pyro.readWorkspaceDisk({ workspaceId: id, path: "names/nl\\x0ax/hidden.txt" });
    expect(read.content).toBe("inside");
    const odd = await pyro.readWorkspaceDisk({
      workspaceId: id,
      path: "/workspace/names/bad\\xff\\xfe/hidden.txt",
    });
    expect(odd.content).toBe("inside");
    unchanged();
  });

  it("caps a read of a 64 GiB sparse file inside debugfs", async () => {
    const free = (): number => {
      const stats = statfsSync(home.home);
      return stats.bavail * stats.bsize;
    };
    // Flatten the disk first so the free-space comparison measures the read alone.
    await pyro.listWorkspaceDisk({ workspaceId: id, path: "/workspace" });
    const freeBefore = free();
    const started = performance.now();
    const read = await pyro.readWorkspaceDisk({ workspaceId: id, path: "big.bin", maxBytes: 1024 * 1024 });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(read.truncated).toBe(true);
    expect(read.size).toBe(64 * 1024 ** 3);
    expect(freeBefore - free()).toBeLessThan(256 * 1024 * 1024);
    unchanged();
  });

  it("refuses a read through a path component that is not a directory", async () => {
    const refused = await pyro
      .readWorkspaceDisk({ workspaceId: id, path: "big.bin/x" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PyroError);
    expect((refused as PyroError).code).toBe("FILE_NOT_FOUND");
    unchanged();
  });
});
