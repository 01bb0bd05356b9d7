import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAB_HTTP_PORT, LAB_NAME, canCreateLab, createLab, type Lab } from "../fixtures/netns-lab.mjs";
import { packAndInstall, userEnv } from "../helpers/installed-package.js";

// A new user's path: the tarball `npm pack` makes, installed into an empty folder, driven only
// through that install's own `npx pyro` / `npx pyro-mcp`. The MCP server runs inside the test's
// namespace pair, so the guest's egress reaches only the lab server: no packet leaves the machine.
const run = promisify(execFile);
const HOST_KERNEL = execFileSync("uname", ["-r"]).toString().trim();
const FETCH_LAB = `exec 3<>/dev/tcp/${LAB_NAME}/${LAB_HTTP_PORT} && printf 'GET /hello HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n1 <&3`;

// PCRE2 last: `mount` itself loads it (through libselinux), so it is covered after the others.
const SYSTEM_LIBRARIES = ["libslirp.so.0", "libglib-2.0.so.0", "libseccomp.so.2", "libpcre2-8.so.0"];

interface Check {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}
interface Doctor {
  ok: boolean;
  checks: Check[];
  networking: { policies: string[]; helper: string | null };
}

describe.skipIf(!canCreateLab())("the npm package installed into an empty folder", () => {
  let work: string;
  let home: string;
  let app: string;
  let installed: string;
  let tarball: string;
  let lab: Lab;
  let env: Record<string, string>;
  const doctor = async (): Promise<Doctor> =>
    JSON.parse((await run("npx", ["--no", "pyro", "doctor", "--json"], { cwd: app, env })).stdout) as Doctor;

  beforeAll(async () => {
    work = mkdtempSync("/tmp/pyro-pkg-");
    home = mkdtempSync("/tmp/pyro-t-");
    ({ tarball, app, installed } = await packAndInstall(work));
    env = userEnv({ PYRO_HOME: home });
    lab = await createLab();
  });
  afterAll(() => {
    lab?.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it("ships the built guest agent and pyro-netstack on its own libraries, and no sources", () => {
    const listing = execFileSync("tar", ["-tzf", tarball]).toString().split("\n");
    expect(listing).toContain("package/guest/build/pyro-agent");
    expect(listing).toContain("package/netstack/build/pyro-netstack");
    expect(listing).toContain("package/netstack/build/lib/libslirp.so.0");
    expect(
      listing.filter((path) => /^package\/(src|test|netstack\/[^/]+\.c|guest\/src)\b/.test(path)),
    ).toEqual([]);
    expect(listing.filter((path) => path.endsWith(".map"))).toEqual([]);

    // The dynamic loader, with no LD_LIBRARY_PATH, takes libslirp and GLib from the package.
    const bundle = realpathSync(join(installed, "netstack", "build", "lib"));
    const ldd = execFileSync("ldd", [join(installed, "netstack", "build", "pyro-netstack")], {
      env: { PATH: process.env.PATH ?? "", LD_LIBRARY_PATH: "" },
    }).toString();
    expect(ldd).toContain(`libslirp.so.0 => ${bundle}/libslirp.so.0`);
    expect(ldd).toContain(`libglib-2.0.so.0 => ${bundle}/libglib-2.0.so.0`);
    expect(ldd).not.toMatch(/libseccomp|not found/);
  });

  it("its pyro-netstack runs with the system's libslirp, GLib, PCRE2 and libseccomp made unreadable", () => {
    // In a private mount namespace, /dev/null covers each system copy: nothing -dev or runtime of
    // the host's can be what the packaged helper loads. The host's own mounts are untouched.
    const hidden = SYSTEM_LIBRARIES.map((name) => join("/lib/x86_64-linux-gnu", name))
      .filter((path) => existsSync(path))
      .map((path) => realpathSync(path));
    const script =
      'helper=$1; shift; for f in "$@"; do mount --bind /dev/null "$f" && test ! -s "$f" || exit 9; done; exec "$helper" --hardening-report';
    const report = execFileSync(
      "unshare",
      ["--mount", "sh", "-c", script, "sh", join(installed, "netstack", "build", "pyro-netstack"), ...hidden],
      { env: { PATH: process.env.PATH ?? "", LD_LIBRARY_PATH: "" } },
    ).toString();
    expect(report).toMatch(/^seccomp filter$/m);
    expect(report).toMatch(/^frame_filter on/m);
  });

  it("doctor --json finds the packaged helper and offers every network policy", async () => {
    const report = await doctor();
    const failed = report.checks.filter((check) => check.status === "FAIL");
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.networking.policies).toEqual(["off", "egress", "egress+published-ports"]);
    expect(report.networking.helper).toBe(join(installed, "netstack", "build", "pyro-netstack"));
    const byName = new Map(report.checks.map((check) => [check.name, check]));
    expect(byName.get("guest agent")?.detail).toBe(join(installed, "guest", "build", "pyro-agent"));
    // Its hardening report ran the packaged binary on the bundled libraries.
    expect(byName.get("netstack seccomp")).toMatchObject({ status: "PASS" });
    expect(byName.get("netstack frame filter")).toMatchObject({ status: "PASS" });
  });

  it("vm_run with egress runs in a guest through the installed `npx pyro-mcp mcp serve`", async () => {
    const transport = new StdioClientTransport({
      command: "ip",
      args: ["netns", "exec", lab.pyroNs, "npx", "--no", "pyro-mcp", "mcp", "serve"],
      cwd: app,
      env,
      stderr: "pipe",
    });
    let serverLog = "";
    transport.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
    const client = new Client({ name: "installed-package-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const result = (await client.callTool({
        name: "vm_run",
        arguments: {
          environment: "debian:12",
          network: true,
          command: ["bash", "-c", `${FETCH_LAB}; uname -r`],
        },
      })) as CallToolResult;
      expect(result.isError, JSON.stringify(result.content) + serverLog).toBeFalsy();
      const outcome = result.structuredContent as {
        stdout: string;
        exit_code: number;
        execution_mode: string;
      };
      expect(outcome).toMatchObject({ exit_code: 0, execution_mode: "guest_serial" });
      const [body, kernel] = outcome.stdout.trim().split("\n");
      expect(body).toBe("hello from the lab"); // DNS by name and HTTP through the packaged netstack
      expect(kernel).not.toBe(HOST_KERNEL); // it ran in the guest
    } finally {
      await client.close();
    }
  });

  it("doctor tells an installed user to reinstall, not to build, when a shipped part is gone", async () => {
    const helper = join(installed, "netstack", "build", "pyro-netstack");
    renameSync(helper, `${helper}.gone`);
    const report = await doctor();
    expect(report.networking.policies).toEqual(["off"]);
    const networking = report.checks.find((check) => check.name === "networking");
    expect(networking?.detail).toContain("pyro-netstack is missing from this installed package");
    expect(networking?.fix).toContain("npm install pyro-mcp@");
    expect(networking?.fix).not.toContain("npm run build");
    expect(existsSync(join(installed, "src"))).toBe(false);
  });
});
