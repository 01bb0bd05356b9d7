import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from "node:fs";
import { release } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { installedGuestKernel } from "../guest/guest-env.js";
import { processesMentioning } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import { childProcesses, treeFingerprint } from "./host-state.js";

let pyro: Pyro;

/**
 * The guest attacks `workspace export` (and snapshots): crafted symlink mazes, links swapped in
 * while the export runs, names of every shape, dangerous modes, and more data than allowed.
 * One workspace serves every case; each checks the host outside the output is unchanged.
 */
describe("hostile guest vs export", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let sentinel: string;
  let before: string;
  let id: string;
  const guest = async (script: string, timeoutSeconds = 240): Promise<string> => {
    const result = await pyro.execWorkspace({
      workspaceId: id,
      command: ["perl", "-e", script],
      timeoutSeconds,
    });
    if (result.exit_code !== 0) throw new Error(`guest script failed: ${result.stderr}`);
    return result.stdout;
  };
  const outputsOnly = (...names: string[]): void => {
    // Nothing but the intended outputs (no staging copy, no partial file) next to them.
    expect(readdirSync(scratch).sort()).toEqual(["sentinel", ...names].sort());
    expect(treeFingerprint(sentinel)).toBe(before);
    expect(childProcesses()).toEqual([]);
  };

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-hx-");
    sentinel = join(scratch, "sentinel");
    mkdirSync(join(sentinel, "etc"), { recursive: true });
    execFileSync("sh", ["-c", `echo keep > ${sentinel}/etc/passwd; chmod 600 ${sentinel}/etc/passwd`]);
    before = treeFingerprint(sentinel);
    const guestKernel = await installedGuestKernel();
    id = (await pyro.createWorkspace({ memMib: 512 })).workspace_id;
    expect((await guest("print `uname -r`")).trim()).toBe(guestKernel);
    expect(guestKernel).not.toBe(release());
  });
  afterEach(() => {
    delete process.env.PYRO_MAX_EXPORT_BYTES;
    delete process.env.PYRO_MAX_SNAPSHOT_BYTES;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(`pyro-${id}`)).toEqual([]);
    try {
      execFileSync("umount", [join(scratch, "tiny")], { stdio: "ignore" });
    } catch {
      // not mounted
    }
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("exports a maze of thousands of crafted links and deep paths in bounded time, escaping links skipped", async () => {
    await guest(`
      mkdir "maze"; chdir "maze" or die;
      symlink ".", "s";
      my $p = ""; for (1..200) { $p .= ($p eq "" ? "" : "/") . "x"; mkdir $p or die; }
      my $through = join("/", ("s") x 900);
      my $wander = join("/", ("y") x 800) . "/" . join("/", ("..") x 800);
      symlink "s/x", "g0"; symlink "g" . ($_ - 1), "g$_" for 1..30;
      for my $i (0..2999) {
        symlink(($i ? "$through/c" . ($i - 1) : "$through/x"), "c$i") or die;
        symlink(join("/", ("..") x 201) . "/etc/passwd", "$p/e$i") or die;
        symlink("$wander/f$i", "$p/w$i") or die;
      }`);
    const out = join(scratch, "maze");
    const started = performance.now();
    const result = await pyro.exportWorkspace({ workspaceId: id, path: "maze", outputPath: out });
    expect(performance.now() - started).toBeLessThan(90_000);
    const reasons = result.skipped.map((entry) => entry.reason);
    expect(
      reasons.filter((reason) => reason.includes("leaves the exported tree")).length,
    ).toBeGreaterThanOrEqual(3000);
    // Every link that was written stays inside the output.
    const deep = join(out, ...Array.from({ length: 200 }, () => "x"));
    for (const name of ["w0", "w2999"]) expect(readlinkSync(join(deep, name))).toMatch(/^y\//);
    expect(existsSync(join(deep, "e0"))).toBe(false);
    // Through 900 links each, the c chain is too long for the kernel to follow: skipped too.
    expect(readdirSync(out).filter((name) => /^c\d+$/.test(name))).toEqual([]);
    expect(realpathSync(join(out, "g30"))).toBe(realpathSync(join(out, "x")));
    rmSync(out, { recursive: true });
    outputsOnly();
  });

  it("never writes outside the output while the guest swaps a directory for a link to / and hard-links in files", async () => {
    await guest(
      `mkdir "race"; mkdir "race/d"; for (1..200) { open(my $f, ">", "race/d/f$_") or die; print $f "x" x 1000; close $f }`,
    );
    await pyro.startService({
      workspaceId: id,
      serviceName: "swapper",
      command: [
        "perl",
        "-e",
        `while (1) { rename "race/d", "race/d.x"; symlink "/", "race/d"; link "/etc/shadow", "race/h"; ` +
          `select(undef, undef, undef, 0.001); unlink "race/d", "race/h"; rename "race/d.x", "race/d"; }`,
      ],
    });
    try {
      for (let round = 0; round < 6; round += 1) {
        const out = join(scratch, `race-${round}`);
        const result = await pyro
          .exportWorkspace({ workspaceId: id, path: "race", outputPath: out })
          .catch((error: unknown) => error);
        if (result instanceof Error) {
          // A failed export is a clear error and leaves nothing behind.
          expect(result).toBeInstanceOf(PyroError);
          expect(existsSync(out)).toBe(false);
          continue;
        }
        for (const name of readdirSync(out)) {
          const stats = lstatSync(join(out, name));
          if (stats.isSymbolicLink())
            throw new Error(`a link was exported: ${name} -> ${readlinkSync(join(out, name))}`);
          expect(stats.nlink).toBeLessThanOrEqual(stats.isDirectory() ? 2 : 1);
          if (stats.isDirectory())
            expect(readdirSync(join(out, name)).every((file) => /^f\d+$/.test(file))).toBe(true);
        }
        rmSync(out, { recursive: true });
      }
    } finally {
      await pyro.stopService({ workspaceId: id, serviceName: "swapper" });
    }
    outputsOnly();
  });

  it("carries names of every shape through file list, export and diff", async () => {
    const names = [
      "nl\nx",
      "ctl\x01\x1b[31m",
      "L".repeat(255),
      "-dash",
      "--help",
      " lead space",
      "tab\there",
    ];
    const invalid = [Buffer.from([0x62, 0x61, 0x64, 0xff]), Buffer.from([0x62, 0x61, 0x64, 0xfe])];
    await guest(`
      mkdir "names"; chdir "names" or die;
      for my $n (${[...names.map((name) => Buffer.from(name)), ...invalid].map(perlString).join(", ")}) {
        mkdir $n or die "$n: $!"; open(my $f, ">", "$n/inner") or die; print $f "in"; close $f;
      }`);
    const listed = await pyro.listWorkspaceFiles({ workspaceId: id, path: "names", recursive: true });
    for (const name of names)
      expect(listed.entries.map((entry) => entry.path)).toContain(`names/${name}/inner`);
    expect(listed.entries).toHaveLength(2 * (names.length + invalid.length));

    const out = join(scratch, "names");
    const result = await pyro.exportWorkspace({ workspaceId: id, path: "names", outputPath: out });
    const exported = readdirSync(out, { encoding: "buffer" });
    for (const name of names) expect(exported.some((entry) => entry.equals(Buffer.from(name)))).toBe(true);
    // Names that are not UTF-8 are exported or reported, never lost silently.
    const odd = exported.filter((entry) => entry.subarray(0, 3).toString() === "bad").length;
    const reported = result.skipped.filter((entry) => entry.path.includes("bad")).length;
    expect(odd + reported).toBeGreaterThanOrEqual(invalid.length);

    const diff = await pyro.diffWorkspace({ workspaceId: id });
    const changed = diff.changes.map((change) => change.path);
    for (const name of names) expect(changed).toContain(`names/${name}/inner`);
    rmSync(out, { recursive: true });
    outputsOnly();
  });

  it("exports mode 0000, setuid, setgid and sticky files and directories with safe modes, twice over", async () => {
    await guest(`
      mkdir "modes"; chdir "modes" or die;
      for my $m (0000, 04777, 02777, 01777, 0777, 06755) {
        my $f = sprintf("f%04o", $m); open(my $h, ">", $f) or die; print $h "x"; close $h; chmod $m, $f;
        my $d = sprintf("d%04o", $m); mkdir $d or die; open($h, ">", "$d/inside") or die; print $h "y"; close $h;
        mkdir "$d/sub"; chmod $m, "$d/sub"; chmod $m, $d;
      }
      chmod 0000, ".";`);
    const out = join(scratch, "modes");
    for (const overwrite of [false, true]) {
      await pyro.exportWorkspace({ workspaceId: id, path: "modes", outputPath: out, overwrite });
      const check = (path: string): void => {
        const stats = lstatSync(path);
        expect(stats.mode & 0o6022, path).toBe(0);
        if (stats.isDirectory()) {
          expect(stats.mode & 0o700, path).toBe(0o700);
          for (const name of readdirSync(path)) check(join(path, name));
        } else {
          expect(stats.mode & 0o1000, path).toBe(0);
          expect(stats.mode & 0o600, path).toBe(0o600);
        }
      };
      check(out);
    }
    rmSync(out, { recursive: true });
    outputsOnly();
  });

  it("refuses an export over PYRO_MAX_EXPORT_BYTES with nothing half-written and the guest's tar ended", async () => {
    await guest(
      `mkdir "big"; for my $i (0..3) { open(my $f, ">", "big/part$i") or die; print $f "z" x (1024 * 1024); close $f }`,
    );
    process.env.PYRO_MAX_EXPORT_BYTES = "2M";
    const out = join(scratch, "big");
    const refused = await pyro
      .exportWorkspace({ workspaceId: id, path: "big", outputPath: out })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PyroError);
    expect((refused as PyroError).code).toBe("LIMIT_EXCEEDED");
    expect((refused as PyroError).message).toContain("PYRO_MAX_EXPORT_BYTES");
    expect((refused as PyroError).hint).toContain("PYRO_MAX_EXPORT_BYTES");
    expect(existsSync(out)).toBe(false);
    const tars = await pyro.execWorkspace({
      workspaceId: id,
      command: "sleep 1; cat /proc/[0-9]*/comm 2>/dev/null | grep -x tar || true",
    });
    expect(tars.stdout.trim()).toBe("");
    outputsOnly();
  });

  it("snapshots the workspace disk copy-on-write: no archive, so a tiny PYRO_MAX_SNAPSHOT_BYTES does not apply", async () => {
    // PYRO_MAX_SNAPSHOT_BYTES bounds archive snapshots (the host backend's; see archive-tar-bombs):
    // a guest VM's snapshot is taken inside its disk image, which its virtual size bounds.
    process.env.PYRO_MAX_SNAPSHOT_BYTES = "1M";
    const taken = await pyro.createSnapshot({ workspaceId: id, snapshotName: "in-place" });
    expect(taken).toMatchObject({ name: "in-place", bytes: 0 });
    const snapshots = resolve(sandboxDir(home.home, id), "snapshots");
    expect(readdirSync(snapshots)).toEqual([]);
    expect((await pyro.listSnapshots({ workspaceId: id })).count).toBe(1);
    await pyro.deleteSnapshot({ workspaceId: id, snapshotName: "in-place" });
    expect((await pyro.listSnapshots({ workspaceId: id })).count).toBe(0);
    outputsOnly();
  });

  it("refuses an export onto a nearly full host file system with HOST_DISK_FULL", async () => {
    const tiny = join(scratch, "tiny");
    mkdirSync(tiny);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", tiny]);
    const refused = await pyro
      .exportWorkspace({ workspaceId: id, path: "big", outputPath: join(tiny, "out") })
      .catch((error: unknown) => error);
    expect((refused as PyroError).code).toBe("HOST_DISK_FULL");
    expect(readdirSync(tiny)).toEqual([]);
    execFileSync("umount", [tiny]);
    rmSync(tiny, { recursive: true });
    outputsOnly();
  });
});

/** A Perl double-quoted string of exact bytes. */
function perlString(bytes: Buffer): string {
  return `"${[...bytes].map((byte) => `\\x{${byte.toString(16).padStart(2, "0")}}`).join("")}"`;
}
