import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import {
  BUSYBOX_ENVIRONMENT,
  installBusyboxEnvironment,
  type BusyboxEnvironment,
} from "../helpers/busybox-environment.js";
import { runPyro } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const PATCH = "--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
const SECRET = "bb-secret-7c41";

describe("an environment made from a busybox-only image", () => {
  let environment: BusyboxEnvironment;
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let scratch: string;
  beforeAll(async () => {
    environment = await installBusyboxEnvironment();
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-busybox-");
    mkdirSync(join(scratch, "seed", "src"), { recursive: true });
    writeFileSync(join(scratch, "seed", "src", "app.txt"), "v1\n");
  }, 120_000);
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
    environment.cleanup();
  });

  it("runs a command with the image's Env, WorkingDir and User", async () => {
    const result = await pyro.runInVm({
      environment: BUSYBOX_ENVIRONMENT,
      command: 'uname -r; id -u; id -g; echo "$APP_MODE"; pwd; echo "$PATH"; command -v bash || echo no-bash',
      timeoutSeconds: 60,
    });
    expect(result.exit_code).toBe(0);
    expect(environment.kernelRelease).not.toBe(release());
    expect(result.stdout.trim().split("\n")).toEqual([
      environment.kernelRelease,
      "1000",
      "1000",
      "test",
      "/srv",
      "/bin:/sbin",
      "no-bash",
    ]);
    // A call's own variables and cwd still win.
    const vm = await pyro.createVm({ environment: BUSYBOX_ENVIRONMENT });
    await pyro.startVm({ vmId: vm.vm_id });
    const exec = await pyro.execVm({ vmId: vm.vm_id, command: "id -un; pwd" });
    expect(exec.stdout).toBe("app\n/srv\n");
  }, 180_000);

  it("walks a workspace through every operation", async () => {
    const ws = await pyro.createWorkspace({
      environment: BUSYBOX_ENVIRONMENT,
      seedPath: join(scratch, "seed"),
      secrets: { TOKEN: SECRET },
    });
    const id = ws.workspace_id;
    try {
      await walkthrough(pyro, id, scratch);
    } finally {
      await pyro.deleteWorkspace({ workspaceId: id });
    }
    expect(processesMentioning(id)).toEqual([]);
  }, 600_000);
});

async function walkthrough(pyro: Pyro, id: string, scratch: string): Promise<void> {
  const exec = async (command: string, secretEnv?: string[]): Promise<string> => {
    const outcome = await pyro.execWorkspace({
      workspaceId: id,
      command,
      ...(secretEnv ? { secretEnv } : {}),
    });
    expect(outcome.exit_code, `${command}: ${outcome.stderr}`).toBe(0);
    return outcome.stdout;
  };
  const owners = (paths: string): Promise<string> => exec(`stat -c '%u:%g %n' ${paths}`);

  // Workspace commands: the image's user and Env, /workspace as the working directory.
  expect(await exec('id -u; echo "$APP_MODE"; pwd; ls /bin/bash 2>/dev/null || echo no-bash')).toBe(
    "1000\ntest\n/workspace\nno-bash\n",
  );
  expect(await owners(". src src/app.txt")).toBe("1000:1000 .\n1000:1000 src\n1000:1000 src/app.txt\n");

  // Files: written, read, listed, patched; what pyro creates belongs to the image's user.
  await pyro.writeWorkspaceFile({ workspaceId: id, path: "docs/new.md", text: "# new\n" });
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "docs/new.md" })).content).toBe("# new\n");
  const listing = await pyro.listWorkspaceFiles({ workspaceId: id, recursive: true });
  expect(listing.entries.map((entry) => entry.path)).toEqual(["docs", "docs/new.md", "src", "src/app.txt"]);
  expect((await pyro.applyWorkspacePatch({ workspaceId: id, patch: PATCH })).modified).toBe(1);
  expect(await exec("cat src/app.txt")).toBe("v2\n");
  mkdirSync(join(scratch, "push", "deep"), { recursive: true });
  writeFileSync(join(scratch, "push", "deep", "data.txt"), "pushed\n");
  await pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: join(scratch, "push"), dest: "in" });
  expect(await owners("docs docs/new.md src/app.txt in in/deep in/deep/data.txt")).toBe(
    [
      "1000:1000 docs",
      "1000:1000 docs/new.md",
      "1000:1000 src/app.txt",
      "1000:1000 in",
      "1000:1000 in/deep",
      "1000:1000 in/deep/data.txt",
      "",
    ].join("\n"),
  );
  // The user can change them (a root-owned file would refuse).
  await exec("echo more >> docs/new.md && mkdir made && touch made/x");

  const diff = await pyro.diffWorkspace({ workspaceId: id });
  expect(diff.changes.map((change) => [change.path, change.status]).sort()).toEqual([
    ["docs/new.md", "added"],
    ["in/deep/data.txt", "added"],
    ["made/x", "added"],
    ["src/app.txt", "modified"],
  ]);
  const out = join(scratch, "out");
  expect((await pyro.exportWorkspace({ workspaceId: id, path: ".", outputPath: out })).artifact_type).toBe(
    "directory",
  );
  expect(readFileSync(join(out, "src", "app.txt"), "utf8")).toBe("v2\n");

  // Snapshot and reset.
  await pyro.createSnapshot({ workspaceId: id, snapshotName: "patched" });
  await pyro.writeWorkspaceFile({ workspaceId: id, path: "src/app.txt", text: "v3\n" });
  await pyro.resetWorkspace({ workspaceId: id, snapshot: "patched" });
  expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "src/app.txt" })).content).toBe("v2\n");
  expect(await exec("id -u")).toBe("1000\n");

  // A shell: busybox's sh, as the image's user.
  const shell = await pyro.openShell({ workspaceId: id });
  const first = await pyro.readShell({
    workspaceId: id,
    shellId: shell.shell_id,
    waitForIdleMs: 1000,
    plain: true,
  });
  await pyro.writeShell({
    workspaceId: id,
    shellId: shell.shell_id,
    input: "echo shell-$(id -u)-$APP_MODE; echo $0",
  });
  const read = await pyro.readShell({
    workspaceId: id,
    shellId: shell.shell_id,
    cursor: first.next_cursor,
    waitForIdleMs: 1000,
    plain: true,
  });
  expect(read.output).toContain("shell-1000-test");
  expect(read.output).toMatch(/^\/bin\/sh$/m);
  await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });

  // Services with http and tcp readiness: no curl, no bash in the guest.
  await exec("mkdir -p www && echo hello > www/index.html");
  const http = await pyro.startService({
    workspaceId: id,
    serviceName: "web",
    command: "exec busybox httpd -f -p 127.0.0.1:8080 -h www",
    readiness: { type: "http", url: "http://127.0.0.1:8080/" },
    readyTimeoutSeconds: 20,
  });
  expect(http.ready).toBe(true);
  const tcp = await pyro.startService({
    workspaceId: id,
    serviceName: "echo",
    command: "exec nc -ll -p 8081 -e cat",
    readiness: { type: "tcp", address: "127.0.0.1:8081" },
    readyTimeoutSeconds: 20,
  });
  expect(tcp.ready).toBe(true);
  expect(await exec("wget -q -O - http://127.0.0.1:8080/index.html")).toBe("hello\n");
  expect(await exec("ps -o user,args | grep '[h]ttpd'")).toMatch(/^app\s+busybox httpd/m);
  await pyro.stopService({ workspaceId: id, serviceName: "web" });
  await pyro.stopService({ workspaceId: id, serviceName: "echo" });

  // A secret, placed with busybox's sh and readable by the image's user.
  expect(await exec('echo "$TOKEN"; cat /run/pyro-secrets/TOKEN', ["TOKEN"])).toBe(
    "[secret:TOKEN]\n[secret:TOKEN]",
  );

  // The CLI gives the same: the image's user, and a file pyro wrote that the user owns.
  const cli = await runPyro(["workspace", "exec", id, "--", "id -un; stat -c %U docs/new.md"]);
  expect(cli.stdout, cli.stderr).toBe("app\napp\n");

  // Stop and start: the files, their owner and the image config survive.
  await pyro.stopWorkspace({ workspaceId: id });
  await pyro.startWorkspace({ workspaceId: id });
  expect(await exec('id -u; echo "$APP_MODE"; cat src/app.txt')).toBe("1000\ntest\nv2\n");
  expect(await owners("docs/new.md")).toBe("1000:1000 docs/new.md\n");
}
