import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InstalledEnvironment } from "../../src/environments/installed.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { buildBusyboxImage, layoutDigest, sharedKernelDonor } from "../helpers/oci-images.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

/**
 * A busybox-only image (busybox-static and nothing else: no bash, no GNU tools, no curl) made
 * with umoci, imported with `pyro env import`, then driven through every workspace operation as
 * the image's non-root user. One workspace serves every case, in order.
 */
const NAME = "busybox:walk";
const WORKING_DIR = "/srv/app";
const CMD = ["echo", "hello from cmd"];
const PATH = "/usr/bin:/bin"; // the image's own, not pyro's default
const SECRET = "bb-secret-7c41";
const PATCH = "--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";

describe("an imported busybox-only image, end to end", () => {
  let work: string;
  let layout: string;
  let donor: InstalledEnvironment;
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let cliEnv: Record<string, string>;
  let id = "";
  const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;

  const exec = async (
    command: string,
    options: { cwd?: string; secretEnv?: string[]; user?: string } = {},
  ) => {
    const outcome = await pyro.execWorkspace({ workspaceId: id, command, ...options });
    expect(outcome.exit_code, `${command}: ${outcome.stderr}`).toBe(0);
    return outcome.stdout;
  };
  const owners = (paths: string): Promise<string> => exec(`stat -c '%u:%g %n' ${paths}`);

  beforeAll(async () => {
    donor = sharedKernelDonor();
    work = await mkdtemp(join(tmpdir(), "pyro-bb-"));
    layout = join(work, "layout");
    buildBusyboxImage(work, layout, {
      user: "1000:1000",
      env: [`PATH=${PATH}`, "APP_MODE=imported"],
      workingDir: WORKING_DIR,
      entrypoint: null,
      cmd: CMD,
    });
    home = useTempPyroHome();
    // The import and everything after it use a private cache; the kernel is the shared one's.
    process.env.PYRO_ENVIRONMENT_CACHE_DIR = join(work, "cache");
    cliEnv = { PYRO_HOME: home.home, PYRO_ENVIRONMENT_CACHE_DIR: join(work, "cache") };
    const imported = await runPyro(["env", "import", `oci:${layout}:app`, "--name", NAME], {
      ...cliEnv,
      PYRO_IMPORT_KERNEL_DIR: donor.dir,
    });
    expect(imported.code, imported.stderr).toBe(0);
    pyro = new Pyro({ home: home.home });
    mkdirSync(join(work, "seed", "src"), { recursive: true });
    writeFileSync(join(work, "seed", "src", "app.txt"), "v1\n");
  }, 120_000);

  afterAll(async () => {
    if (id !== "") await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
    if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
    await rm(work, { recursive: true, force: true });
  });

  it("env inspect shows the image config and where it came from (human and --json)", async () => {
    const reference = `oci:${layout}:app@${layoutDigest(layout, "app")}`;
    const human = await runPyro(["env", "inspect", NAME], cliEnv);
    expect(human.code, human.stderr).toBe(0);
    const row = (key: string): string | undefined =>
      human.stdout
        .split("\n")
        .find((line) => line.startsWith(`${key} `))
        ?.slice(17);
    expect(row("source")).toBe(
      `imported from ${reference} (kernel from ${donor.name}@sha256:${donor.manifest.files.kernel.sha256})`,
    );
    expect(row("image user")).toBe("1000:1000 (1000:1000)");
    expect(row("image workdir")).toBe(WORKING_DIR);
    expect(row("image entrypoint")).toBe("-");
    expect(row("image cmd")).toBe('["echo","hello from cmd"]');
    expect(human.stdout).toContain(`\nimage env        PATH=${PATH}\n                 APP_MODE=imported\n`);

    const json = await runPyro(["env", "inspect", NAME, "--json"], cliEnv);
    expect(json.code, json.stderr).toBe(0);
    const details = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(details).toMatchObject({
      name: NAME,
      installed: true,
      source: "import",
      origin: expect.stringMatching(new RegExp(`^imported from ${escape(reference)} `)) as string,
      provenance: {
        kind: "imported",
        reference: `oci:${layout}:app`,
        manifest_digest: layoutDigest(layout, "app"),
      },
      image: {
        env: [`PATH=${PATH}`, "APP_MODE=imported"],
        working_dir: WORKING_DIR,
        user: { spec: "1000:1000", uid: 1000, gid: 1000 },
        entrypoint: null,
        cmd: CMD,
      },
    });
  });

  it("runs the image's Cmd when run is given no command: CLI, SDK and MCP", async () => {
    const cli = await runPyro(["run", NAME], cliEnv);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe("hello from cmd\n");

    // A given command replaces the Cmd, and runs as the image's user, with its Env, in its WorkingDir.
    const sdk = await pyro.runInVm({
      environment: NAME,
      command: 'id -u; id -g; echo "$APP_MODE"; pwd; echo "$PATH"; uname -r',
    });
    expect(sdk.exit_code, sdk.stderr).toBe(0);
    expect(sdk.command).toBe('id -u; id -g; echo "$APP_MODE"; pwd; echo "$PATH"; uname -r');
    const [uid, gid, mode, cwd, path, kernel] = sdk.stdout.trimEnd().split("\n");
    expect([uid, gid, mode, cwd, path]).toEqual(["1000", "1000", "imported", WORKING_DIR, PATH]);
    expect(kernel).toBe(donor.kernelRelease);
    expect(kernel).not.toBe(release());

    const mcp: Client = await connectMcp("vm-run", [], { env: cliEnv });
    try {
      const result = await mcp.callTool({ name: "vm_run", arguments: { environment: NAME } });
      expect(result.isError ?? false).toBe(false);
      expect(result.structuredContent).toMatchObject({
        exit_code: 0,
        stdout: "hello from cmd\n",
        command: CMD,
      });
    } finally {
      await mcp.close();
    }

    // The image's programs are in its root image: a host-mode run has none to run.
    const host = await runPyro(["run", NAME, "--backend", "host", "--allow-host-compat"], cliEnv);
    expect(host.code).toBe(64);
    expect(host.stderr).toContain("image Entrypoint and Cmd run only in a guest, not on the host");
    // An environment with no Entrypoint or Cmd refuses, before anything boots.
    const none = await runPyro(["run", "debian:12"], cliEnv);
    expect(none.code).toBe(64);
    expect(none.stderr).toContain("no command given, and debian:12 has no image Entrypoint or Cmd");
  }, 120_000);

  it("creates a workspace whose commands run as the image's user, with its Env, in no bash", async () => {
    const ws = await pyro.createWorkspace({
      environment: NAME,
      seedPath: join(work, "seed"),
      secrets: { TOKEN: SECRET },
    });
    id = ws.workspace_id;
    // Workspaces keep /workspace as their working directory; run and vm exec use the WorkingDir.
    expect(await exec('id -u; id -g; echo "$APP_MODE"; pwd; command -v bash || echo no-bash')).toBe(
      "1000\n1000\nimported\n/workspace\nno-bash\n",
    );
    // The image's own tree: its layers' whiteouts and opaque folder applied.
    expect(await exec("cat /opt/keep/fresh.txt; ls /opt/data; test -e /etc/motd || echo no-motd")).toBe(
      "fresh\nnew.txt\nno-motd\n",
    );
    expect(await owners(". src src/app.txt")).toBe("1000:1000 .\n1000:1000 src\n1000:1000 src/app.txt\n");
    // A call's cwd, variables and user win over the image's.
    expect(await exec("pwd", { cwd: "src" })).toBe("/workspace/src\n");
    expect(await exec('echo "$APP_MODE"', { secretEnv: ["TOKEN=APP_MODE"] })).toBe("[secret:TOKEN]\n");
    expect(await exec('id -u; id -g; echo "$HOME"; echo "$APP_MODE"', { user: "root" })).toBe(
      "0\n0\n/root\nimported\n",
    );
    expect(await exec("id -u; id -g", { user: "1000:50" })).toBe("1000\n50\n");
  }, 60_000);

  it("pushes, writes, patches and reads files the image's user owns", async () => {
    await pyro.writeWorkspaceFile({ workspaceId: id, path: "docs/new.md", text: "# new\n" });
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "docs/new.md" })).content).toBe("# new\n");
    expect((await pyro.applyWorkspacePatch({ workspaceId: id, patch: PATCH })).modified).toBe(1);
    mkdirSync(join(work, "push", "deep"), { recursive: true });
    writeFileSync(join(work, "push", "deep", "data.txt"), "pushed\n");
    await pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: join(work, "push"), dest: "in" });
    const listing = await pyro.listWorkspaceFiles({ workspaceId: id, recursive: true });
    expect(listing.entries.map((entry) => entry.path)).toEqual([
      "docs",
      "docs/new.md",
      "in",
      "in/deep",
      "in/deep/data.txt",
      "src",
      "src/app.txt",
    ]);
    expect(await owners("docs/new.md src/app.txt in/deep/data.txt")).toBe(
      "1000:1000 docs/new.md\n1000:1000 src/app.txt\n1000:1000 in/deep/data.txt\n",
    );
    // The user can change what pyro wrote (a root-owned file would refuse).
    await exec("cat src/app.txt >> docs/new.md && mkdir made && touch made/x");
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "docs/new.md" })).content).toBe(
      "# new\nv2\n",
    );
  });

  it("opens a shell: busybox's sh as the image's user, in the cwd asked for", async () => {
    const shell = await pyro.openShell({ workspaceId: id, cwd: "in" });
    const first = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      waitForIdleMs: 500,
      plain: true,
    });
    await pyro.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input: 'echo "shell-$(id -u)-$APP_MODE"; pwd; readlink /proc/$$/exe',
    });
    const read = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: first.next_cursor,
      waitForIdleMs: 500,
      plain: true,
    });
    expect(read.output).toMatch(/^shell-1000-imported$/m);
    expect(read.output).toMatch(/^\/workspace\/in$/m);
    expect(read.output).toMatch(/^\/bin\/busybox$/m);
    await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });
  });

  it("starts services with http and tcp readiness (no curl, no bash), reads logs and stops them", async () => {
    await exec("mkdir -p www && echo hello > www/index.html");
    const started = await pyro.startService({
      workspaceId: id,
      serviceName: "web",
      command: "echo serving as $(id -u); exec httpd -f -v -p 127.0.0.1:8080 -h www",
      readiness: { type: "http", url: "http://127.0.0.1:8080/" },
      readyTimeoutSeconds: 20,
    });
    expect(started).toMatchObject({ ready: true, state: "running" });
    const echo = await pyro.startService({
      workspaceId: id,
      serviceName: "echo",
      command: "exec nc -ll -p 8081 -e cat",
      readiness: { type: "tcp", address: "127.0.0.1:8081" },
      readyTimeoutSeconds: 20,
    });
    expect(echo.ready).toBe(true);
    expect(await exec("wget -q -O - http://127.0.0.1:8080/index.html")).toBe("hello\n");
    expect(await exec("ps -o user,args | grep '[n]c -ll'")).toMatch(/^app\s+nc -ll/m);
    const logs = await pyro.logsService({ workspaceId: id, serviceName: "web" });
    expect(logs.logs).toContain("serving as 1000");
    expect((await pyro.stopService({ workspaceId: id, serviceName: "web" })).state).toBe("exited");
    expect((await pyro.stopService({ workspaceId: id, serviceName: "echo" })).state).toBe("exited");
  });

  it("gives a secret to the image's user, masked, outside /workspace", async () => {
    expect(await exec('echo "$TOKEN"; cat /run/pyro-secrets/TOKEN', { secretEnv: ["TOKEN"] })).toBe(
      "[secret:TOKEN]\n[secret:TOKEN]",
    );
  });

  it("diffs and exports what changed, snapshots and resets", async () => {
    const diff = await pyro.diffWorkspace({ workspaceId: id });
    expect(diff.changes.map((change) => [change.path, change.status]).sort()).toEqual([
      ["docs/new.md", "added"],
      ["in/deep/data.txt", "added"],
      ["made/x", "added"],
      ["src/app.txt", "modified"],
      ["www/index.html", "added"],
    ]);
    expect(diff.patch).toContain("--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1,1 +1,1 @@\n-v1\n+v2\n");
    const out = join(work, "out");
    const exported = await pyro.exportWorkspace({ workspaceId: id, path: ".", outputPath: out });
    expect(exported.artifact_type).toBe("directory");
    expect(readFileSync(join(out, "src", "app.txt"), "utf8")).toBe("v2\n");
    expect(readFileSync(join(out, "in", "deep", "data.txt"), "utf8")).toBe("pushed\n");
    const file = join(work, "app.txt");
    expect(
      (await pyro.exportWorkspace({ workspaceId: id, path: "src/app.txt", outputPath: file })).artifact_type,
    ).toBe("file");
    // The exported diff applies to the seed with the host's own patch tool.
    execFileSync("patch", ["-p1", "-d", join(work, "seed")], { input: diff.patch });
    expect(readFileSync(join(work, "seed", "src", "app.txt"), "utf8")).toBe("v2\n");

    await pyro.createSnapshot({ workspaceId: id, snapshotName: "patched" });
    await pyro.writeWorkspaceFile({ workspaceId: id, path: "src/app.txt", text: "v3\n" });
    await pyro.resetWorkspace({ workspaceId: id, snapshot: "patched" });
    expect(await exec('id -u; echo "$APP_MODE"; cat src/app.txt')).toBe("1000\nimported\nv2\n");
  }, 60_000);

  it("stops (its disk readable offline), starts and deletes, leaving no process", async () => {
    await pyro.stopWorkspace({ workspaceId: id });
    const disk = await pyro.readWorkspaceDisk({ workspaceId: id, path: "src/app.txt" });
    expect(disk.content).toBe("v2\n");
    await pyro.startWorkspace({ workspaceId: id });
    expect(await exec('id -u; echo "$APP_MODE"; cat src/app.txt')).toBe("1000\nimported\nv2\n");
    const cli = await runPyro(["workspace", "exec", id, "--", "id -un; stat -c %U docs/new.md"], cliEnv);
    expect(cli.stdout, cli.stderr).toBe("app\napp\n");
    const root = await runPyro(["workspace", "exec", id, "--user", "root", "--", "id", "-un"], cliEnv);
    expect(root.stdout, root.stderr).toBe("root\n");
    await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
    id = "";
  }, 60_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
