import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

const SECRET = "pyro-scan-4b7e91d2-do-not-leak";
const FILE_SECRET = "pyro-scan-file-8a2c55f0-value";

describe("a secret never leaks: every operation, then a scan of every byte pyro wrote or returned", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id = "";
  beforeAll(() => {
    home = useTempPyroHome();
    scratch = mkdtempSync("/tmp/pyro-scan-");
  });
  afterAll(async () => {
    if (id !== "") await runPyro(["workspace", "delete", id]);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("masks the value everywhere and keeps it only in the owner-only store and the guest's /run", async () => {
    const returned: string[] = [];
    const pyro = async (...args: string[]): Promise<string> => {
      const result = await runPyro(args);
      returned.push(result.stdout, result.stderr);
      if (result.code !== 0) throw new Error(`pyro ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };
    const secretFile = join(scratch, "token.txt");
    writeFileSync(secretFile, FILE_SECRET);
    mkdirSync(join(scratch, "seed"));
    writeFileSync(join(scratch, "seed", "app.txt"), "v1\n");
    id = (
      await pyro(
        "workspace",
        "create",
        "debian:12-base",
        "--mem-mib",
        "512",
        "--seed-path",
        join(scratch, "seed"),
        "--secret",
        `TOKEN=${SECRET}`,
        "--secret-file",
        `FILE_TOKEN=${secretFile}`,
        "--id-only",
      )
    ).trim();

    const inGuest = await pyro(
      "workspace",
      "exec",
      id,
      "--json",
      "--",
      "stat -c '%a %n' /run/pyro-secrets/TOKEN; cat /run/pyro-secrets/TOKEN",
    );
    expect(inGuest).toContain("600 /run/pyro-secrets/TOKEN");
    expect(inGuest).toContain("[secret:TOKEN]");
    await pyro(
      "workspace",
      "exec",
      id,
      "--secret-env",
      "TOKEN",
      "--secret-env",
      "FILE_TOKEN=FT",
      "--",
      "echo $TOKEN $FT; echo $TOKEN >&2",
    );
    const shell = (await pyro("workspace", "shell", "open", id, "--secret-env", "TOKEN", "--id-only")).trim();
    await pyro("workspace", "shell", "write", id, shell, "--input", "echo shell:$TOKEN");
    expect(
      await pyro("workspace", "shell", "read", id, shell, "--wait-for-idle-ms", "800", "--plain"),
    ).toContain("shell:[secret:TOKEN]");
    await pyro(
      "workspace",
      "service",
      "start",
      id,
      "leaky",
      "--secret-env",
      "TOKEN",
      "--ready-command",
      "true",
      "--",
      "echo service:$TOKEN; exec sleep 600",
    );
    expect(await pyro("workspace", "service", "logs", id, "leaky")).toContain("service:[secret:TOKEN]");
    await pyro("workspace", "file", "write", id, "notes.txt", "--text", "no secret here");
    for (const args of [
      ["status", id],
      ["list"],
      ["logs", id],
      ["diff", id],
      ["service", "list", id],
      ["snapshot", "list", id],
    ]) {
      await pyro("workspace", ...args, "--json");
      await pyro("workspace", ...args);
    }
    await pyro("workspace", "export", id, ".", "--output", join(scratch, "export"));
    await pyro("workspace", "snapshot", "create", id, "s1");
    await pyro("workspace", "reset", id, "--snapshot", "s1");
    expect(await pyro("workspace", "exec", id, "--", "cat /run/pyro-secrets/FILE_TOKEN")).toContain(
      "[secret:FILE_TOKEN]",
    );
    const failing = await runPyro(["workspace", "exec", id, "--secret-env", "MISSING", "--", "true"]);
    returned.push(failing.stdout, failing.stderr);

    // Guest files holding the value, on a tmpfs inside /workspace so no disk block ever holds it.
    await pyro(
      "workspace",
      "exec",
      id,
      "--",
      'mkdir -p mem && mount -t tmpfs none mem && cat /run/pyro-secrets/TOKEN > mem/leak.txt && touch "mem/name-$(cat /run/pyro-secrets/TOKEN)"',
    );
    // The guest's serial console is stored on the host: it must hold the values masked too.
    await pyro(
      "workspace",
      "exec",
      id,
      "--",
      "cat /run/pyro-secrets/TOKEN /run/pyro-secrets/FILE_TOKEN > /dev/ttyS0",
    );
    expect(await pyro("workspace", "file", "read", id, "mem/leak.txt")).toContain("[secret:TOKEN]");
    await pyro("workspace", "file", "read", id, "mem/leak.txt", "--json");
    expect(await pyro("workspace", "file", "list", id, "mem", "--json")).toContain("name-[secret:TOKEN]");
    expect(await pyro("workspace", "diff", id)).toContain("[secret:TOKEN]");
    await pyro("workspace", "diff", id, "--json");
    // Caller text: a command line and a cwd holding the value, in history and in errors.
    await pyro("workspace", "exec", id, "--", `echo ${SECRET} > /dev/null`);
    expect(await pyro("workspace", "logs", id)).toContain("echo [secret:TOKEN] > /dev/null");
    for (const args of [
      ["exec", id, "--cwd", `/etc/${SECRET}`, "--", "true"],
      ["exec", id, "--cwd", `missing-${SECRET}`, "--", "true"],
      ["file", "read", id, `missing-${FILE_SECRET}`],
    ]) {
      const refused = await runPyro(["workspace", ...args]);
      returned.push(refused.stdout, refused.stderr);
      expect(refused.code).not.toBe(0);
    }
    // Shell reads at every window size across the value: no window shows any of it.
    const sdk = new Pyro();
    const windowShell = await sdk.openShell({ workspaceId: id, secretEnv: ["TOKEN"] });
    await sdk.writeShell({ workspaceId: id, shellId: windowShell.shell_id, input: 'echo "<$TOKEN>"' });
    let screen = "";
    for (let tries = 0; tries < 40 && !screen.includes("<[secret:TOKEN]>"); tries++) {
      screen = (
        await sdk.readShell({ workspaceId: id, shellId: windowShell.shell_id, cursor: 0, waitForIdleMs: 300 })
      ).output;
    }
    returned.push(screen);
    const at = Buffer.from(screen).indexOf("<[secret:TOKEN]>");
    expect(at).toBeGreaterThanOrEqual(0);
    for (let window = 1; window <= SECRET.length + 1; window++) {
      for (let cursor = Math.max(0, at - SECRET.length); cursor < at + 16; cursor += window) {
        const read = await sdk.readShell({
          workspaceId: id,
          shellId: windowShell.shell_id,
          cursor,
          maxChars: window,
        });
        returned.push(read.output);
      }
    }
    await sdk.closeShell({ workspaceId: id, shellId: windowShell.shell_id });

    const mcp = await connectMcp("workspace-full");
    try {
      for (const [name, args] of [
        ["workspace_status", {}],
        ["workspace_exec", { command: "echo $TOKEN", secret_env: ["TOKEN"] }],
        ["service_logs", { service_name: "leaky" }],
        ["workspace_logs", {}],
        ["workspace_diff", {}],
        ["workspace_file_read", { path: "mem/leak.txt" }],
        ["workspace_file_list", { path: "mem" }],
        ["workspace_exec", { command: "true", cwd: `/etc/${SECRET}` }],
      ] as const) {
        returned.push(JSON.stringify(await mcp.callTool({ name, arguments: { workspace_id: id, ...args } })));
      }
    } finally {
      await mcp.close();
    }

    const store = join(sandboxDir(home.home, id), "secrets");
    expect(statSync(join(store, "TOKEN")).mode & 0o777).toBe(0o600);
    for (const text of returned) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(FILE_SECRET);
    }
    // Every file pyro wrote (state, logs, baseline, snapshots, exports, the VM's disk overlay —
    // the guest keeps secrets on /run, a tmpfs) holds neither value, apart from the owner-only store.
    const grep = spawnSync("grep", [
      "-r",
      "-l",
      "-a",
      "-F",
      "-e",
      SECRET,
      "-e",
      FILE_SECRET,
      home.home,
      join(scratch, "export"),
    ]);
    const holders = grep.stdout
      .toString()
      .split("\n")
      .filter((line) => line !== "");
    expect(holders.sort()).toEqual([join(store, "FILE_TOKEN"), join(store, "TOKEN")]);

    // Last, once the scan is done: a file on the disk itself, read offline from a stopped workspace.
    await pyro("workspace", "exec", id, "--", "cat /run/pyro-secrets/TOKEN > disk-leak.txt && sync");
    await pyro("workspace", "stop", id);
    expect(await pyro("workspace", "disk", "read", id, "/workspace/disk-leak.txt")).toContain(
      "[secret:TOKEN]",
    );
    for (const text of returned) expect(text).not.toContain(SECRET);
    await pyro("workspace", "delete", id);
  });
});
