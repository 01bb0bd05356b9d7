import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

// The guest's agent is the real one behind a relay that cuts every output frame to one byte:
// each value the guest prints reaches the host split at every byte offset.
const TRICKLE_AGENT = fileURLToPath(new URL("../fixtures/trickle-agent.mjs", import.meta.url));
const HOST = { backend: "host", allowHostCompat: true } as const;
const TOKEN = "pyro-hostile-51f3-token-value";
const KEY = "ключ-秘密-🔑-a9c4"; // multi-byte: Cyrillic (2 bytes), CJK (3), emoji (4)
const LONG = `${"a".repeat(4095)}b`; // a guest can print its prefix forever to make pyro hold bytes
const VALUES = [TOKEN, KEY, LONG];

describe("hostile: a guest (and a caller) trying to get a secret value back out of pyro", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id = "";
  let mcp: Client;
  let pyro: Pyro;
  const returned: string[] = [];
  const keep = <T>(value: T): T => {
    returned.push(typeof value === "string" ? value : JSON.stringify(value));
    return value;
  };
  const cli = async (...args: string[]) => {
    const result = await runPyro(args);
    keep(result.stdout);
    keep(result.stderr);
    return result;
  };
  const tool = async (name: string, args: Record<string, unknown>) =>
    keep(await mcp.callTool({ name, arguments: { workspace_id: id, ...args } }));
  const sdkError = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).not.toBeNull();
    keep(String(error));
    keep(error);
    return error as { code: string; message: string };
  };

  /** Neither value in anything returned, nor in any file under PYRO_HOME but the owner-only store
   * and the host-compat guest's own files (its /workspace and /run/pyro-secrets live there). */
  function expectNoLeak(): void {
    for (const text of returned) for (const value of VALUES) expect(text).not.toContain(value);
    const grep = spawnSync("grep", ["-r", "-l", "-a", "-F", "-e", TOKEN, "-e", KEY, home.home]);
    const holders = grep.stdout
      .toString()
      .split("\n")
      .filter((line) => line !== "")
      .filter((path) => !path.includes(`/sandboxes/${id}/secrets/`) && !path.includes("/vm/scratch/"));
    expect(holders).toEqual([]);
  }

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    process.env.PYRO_AGENT_BIN = TRICKLE_AGENT;
    id = (await pyro.createWorkspace({ ...HOST, secrets: { TOKEN, KEY, LONG } })).workspace_id;
    mcp = await connectMcp("workspace-full");
  });
  afterAll(async () => {
    await mcp.close();
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    delete process.env.PYRO_AGENT_BIN;
    const agents = spawnSync("pgrep", ["-f", home.home]).stdout.toString().trim();
    home.cleanup();
    expect(agents).toBe(""); // nothing left running
  });

  it("a guest printing the value one byte per write, relayed one byte per frame", async () => {
    const script =
      'v=$(printf %s "$TOKEN"); i=0; while [ $i -lt ${#v} ]; do printf %s "${v:$i:1}"; i=$((i+1)); done; echo';
    const command = ["bash", "-c", script];
    const sdk = keep(await pyro.execWorkspace({ workspaceId: id, command, secretEnv: ["TOKEN"] }));
    expect(sdk.stdout).toBe("[secret:TOKEN]\n");
    const live = await cli("workspace", "exec", id, "--secret-env", "TOKEN", "--", ...command);
    expect(live.stdout).toBe("[secret:TOKEN]\n");
    const viaMcp = await tool("workspace_exec", { command, secret_env: ["TOKEN"] });
    expect(JSON.stringify(viaMcp)).toContain("[secret:TOKEN]");
    expectNoLeak();
  });

  it("a multi-byte value split inside its characters, on stdout and stderr", async () => {
    const run = keep(
      await pyro.execWorkspace({
        workspaceId: id,
        command: 'printf "a%sb\\n" "$KEY"; printf "%s" "$KEY" >&2',
        secretEnv: ["KEY"],
      }),
    );
    expect(run.stdout).toBe("a[secret:KEY]b\n");
    expect(run.stderr).toBe("[secret:KEY]");
    // The CLI streams output live: each one-byte frame is masked as bytes, never decoded alone.
    const live = await cli("workspace", "exec", id, "--secret-env", "KEY", "--", 'printf "a%sb\n" "$KEY"');
    expect(live.stdout).toBe("a[secret:KEY]b\n");
    expectNoLeak();
  });

  it("a flood of near-matches: pyro holds back at most one value's length and stays linear", async () => {
    const started = Date.now();
    const run = keep(
      await pyro.execWorkspace({ workspaceId: id, command: "head -c 100000 /dev/zero | tr '\\0' a" }),
    );
    expect(run.stdout).toBe("a".repeat(100_000)); // nothing lost once the stream ends
    expect(Date.now() - started).toBeLessThan(60_000);
    const shell = keep(await pyro.openShell({ workspaceId: id }));
    keep(
      await pyro.writeShell({
        workspaceId: id,
        shellId: shell.shell_id,
        input: "head -c 8000 /dev/zero | tr '\\0' a",
      }),
    );
    let seen = 0;
    for (let tries = 0; tries < 20 && seen < 4000; tries++) {
      seen =
        keep(
          await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor: 0, waitForIdleMs: 300 }),
        ).output.split("a").length - 1;
    }
    // The last 4095 'a's could still start LONG: they stay held while the shell waits (the
    // prompt that follows them releases them), never more than that.
    expect(seen).toBeGreaterThanOrEqual(8000 - 4095);
    keep(await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id }));
    expectNoLeak();
  });

  it("shell reads with every window size from 1 to past the value, across the value", async () => {
    const shell = keep(await pyro.openShell({ workspaceId: id, secretEnv: ["TOKEN"] }));
    keep(await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: 'echo "<$TOKEN>"' }));
    let full = "";
    for (let tries = 0; tries < 50 && !full.includes("<[secret:TOKEN]>"); tries++) {
      full = keep(
        await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor: 0, waitForIdleMs: 200 }),
      ).output;
    }
    expect(full).toContain("<[secret:TOKEN]>");
    const at = Buffer.from(full).indexOf("<[secret:TOKEN]>");
    for (let window = 1; window <= TOKEN.length + 2; window++) {
      const parts: string[] = [];
      for (let cursor = Math.max(0, at - TOKEN.length); cursor < at + 20; cursor += window) {
        const read = keep(
          await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor, maxChars: window }),
        );
        expect(read.next_cursor - read.cursor).toBeLessThanOrEqual(window);
        parts.push(read.output);
      }
      // Windows are slices of one stored stream: together they read the same masked text.
      expect(parts.join("")).toContain("<[secret:TOKEN]>");
    }
    keep(await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id }));
    expectNoLeak();
  });

  it("a file holding the value read back whole, cut short, as binary, and listed by name", async () => {
    keep(
      await pyro.execWorkspace({
        workspaceId: id,
        command: `printf "x%sy" "$TOKEN" > leak.txt; printf "\\0%s" "$KEY" > leak.bin; touch "name-$TOKEN"`,
        secretEnv: ["TOKEN", "KEY"],
      }),
    );
    expect(keep(await pyro.readWorkspaceFile({ workspaceId: id, path: "leak.txt" })).content).toBe(
      "x[secret:TOKEN]y",
    );
    for (let maxBytes = 2; maxBytes <= TOKEN.length; maxBytes++) {
      const cut = keep(await pyro.readWorkspaceFile({ workspaceId: id, path: "leak.txt", maxBytes }));
      expect(cut.truncated).toBe(true);
      expect(cut.content).toBe("x"); // the start of the value is dropped, never shown in part
    }
    const whole = { workspaceId: id, path: "leak.txt", maxBytes: TOKEN.length + 1 };
    expect(keep(await pyro.readWorkspaceFile(whole)).content).toBe("x[secret:TOKEN]");
    const binary = keep(await pyro.readWorkspaceFile({ workspaceId: id, path: "leak.bin" }));
    expect(binary.encoding).toBe("base64");
    keep(Buffer.from(binary.content, "base64").toString());
    expect(Buffer.from(binary.content, "base64").toString()).toBe("\0[secret:KEY]");
    const listed = keep(await pyro.listWorkspaceFiles({ workspaceId: id }));
    expect(JSON.stringify(listed)).toContain("name-[secret:TOKEN]");
    expect((await cli("workspace", "file", "read", id, "leak.txt")).stdout).toContain("x[secret:TOKEN]y");
    expect(JSON.stringify(await tool("workspace_file_read", { path: "leak.txt" }))).toContain(
      "[secret:TOKEN]",
    );
    expectNoLeak();
  });

  it("a diff whose patch and paths hold the value", async () => {
    const diff = keep(await pyro.diffWorkspace({ workspaceId: id }));
    expect(diff.patch).toContain("x[secret:TOKEN]y");
    expect(JSON.stringify(diff.changes)).toContain("name-[secret:TOKEN]");
    await cli("workspace", "diff", id);
    await cli("workspace", "diff", id, "--json");
    await tool("workspace_diff", {});
    expectNoLeak();
  });

  it("a command line holding the value, kept in the history and shown by logs", async () => {
    keep(await pyro.execWorkspace({ workspaceId: id, command: `echo ${TOKEN} >/dev/null` }));
    keep(await pyro.execWorkspace({ workspaceId: id, command: ["printf", "%s", KEY] }));
    const logs = keep(await pyro.logsWorkspace({ workspaceId: id }));
    expect(JSON.stringify(logs)).toContain("echo [secret:TOKEN] >/dev/null");
    await cli("workspace", "logs", id);
    await cli("workspace", "logs", id, "--json");
    await tool("workspace_logs", {});
    expectNoLeak();
  });

  it("errors that echo the value: a cwd, a path, a failing service and bad input", async () => {
    const outside = await sdkError(
      pyro.execWorkspace({ workspaceId: id, command: "true", cwd: `/etc/${TOKEN}` }),
    );
    expect(outside.code).toBe("PATH_OUTSIDE_WORKSPACE");
    expect(outside.message).toContain("[secret:TOKEN]");
    const missing = await sdkError(pyro.readWorkspaceFile({ workspaceId: id, path: `missing-${KEY}` }));
    expect(missing.message).toContain("[secret:KEY]");
    const failing = await sdkError(
      pyro.startService({
        workspaceId: id,
        serviceName: "leaky",
        command: 'printf "boom %s\\n" "$TOKEN"; exit 3',
        secretEnv: ["TOKEN"],
        readiness: { type: "command", command: "false" },
      }),
    );
    expect(failing.message).toContain("boom [secret:TOKEN]");
    const logs = keep(await pyro.logsService({ workspaceId: id, serviceName: "leaky" }));
    expect(logs.logs).toContain("boom [secret:TOKEN]");
    const cwdCli = await cli("workspace", "exec", id, "--cwd", `/etc/${KEY}`, "--", "true");
    expect(cwdCli.code).not.toBe(0);
    expect(cwdCli.stderr).toContain("[secret:KEY]");
    const cwdMcp = await tool("workspace_exec", { command: "true", cwd: `/etc/${TOKEN}` });
    expect(cwdMcp.isError).toBe(true);
    await tool("workspace_exec", { command: "true", cwd: `no-such-dir-${TOKEN}` });
    await tool("workspace_file_read", { path: 42, note: TOKEN });
    expectNoLeak();
  });
});
