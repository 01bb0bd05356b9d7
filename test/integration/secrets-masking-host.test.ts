import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;
const SECRET = "pyro-mask-2e8b-secret-value";
const FILE_SECRET = "pyro-mask-file-77aa";

describe("secret masking in what pyro keeps and in errors, on every surface (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  let mcp: Client;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-mask-");
    writeFileSync(join(scratch, "token"), `${FILE_SECRET}\n`); // files usually end with a newline
    id = (
      await pyro.createWorkspace({
        ...HOST,
        secrets: { API: SECRET },
        secretFiles: { FILE: join(scratch, "token") },
        labels: { note: `uses ${SECRET}` },
      })
    ).workspace_id;
    mcp = await connectMcp("workspace-full");
  });
  afterAll(async () => {
    await mcp.close();
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("keeps labels and the command history masked on disk, and returns them masked", async () => {
    await pyro.updateWorkspace({ workspaceId: id, labels: { again: `x${SECRET}x` } });
    await pyro.execWorkspace({ workspaceId: id, command: ["echo", SECRET], cwd: "." });
    await runPyro(["workspace", "exec", id, "--", `true ${SECRET}`]);
    await mcp.callTool({ name: "workspace_exec", arguments: { workspace_id: id, command: `: ${SECRET}` } });
    const stored = ["sandbox.json", "history.jsonl"].map((file) =>
      readFileSync(join(sandboxDir(home.home, id), file), "utf8"),
    );
    for (const text of stored) expect(text).not.toContain(SECRET);
    expect(stored[0]).toContain("uses [secret:API]");
    expect(stored[1]).toContain('["echo","[secret:API]"]');
    expect(stored[1]).toContain("true [secret:API]");
    expect(stored[1]).toContain(": [secret:API]");
    const logs = JSON.stringify(await pyro.logsWorkspace({ workspaceId: id }));
    const cli = await runPyro(["workspace", "logs", id]);
    const viaMcp = JSON.stringify(
      await mcp.callTool({ name: "workspace_logs", arguments: { workspace_id: id } }),
    );
    for (const text of [logs, cli.stdout, viaMcp]) {
      expect(text).toContain("[secret:API]");
      expect(text).not.toContain(SECRET);
    }
    expect(JSON.stringify(await pyro.statusWorkspace({ workspaceId: id }))).toContain("x[secret:API]x");
  });

  it("masks a file-given value with and without its trailing newline", async () => {
    const run = await pyro.execWorkspace({
      workspaceId: id,
      command: 'printf "[%s]" "$FILE"; printf "%s" "$FILE" | tr -d "\\n"',
      secretEnv: ["FILE"],
    });
    expect(run.stdout).toBe("[[secret:FILE]][secret:FILE]");
  });

  it("masks values echoed in errors: a create's own inline secret, a refused cwd, a bad path", async () => {
    const bad = { ...HOST, name: `bad\u0001${SECRET}`, secrets: { API: SECRET } };
    const sdk = (await pyro.createWorkspace(bad).then(
      () => new Error("created"),
      (error: unknown) => error,
    )) as Error;
    expect(sdk.message).toContain("[secret:API]");
    expect(sdk.message).not.toContain(SECRET);
    const viaMcp = await mcp.callTool({
      name: "workspace_create",
      arguments: {
        backend: "host",
        allow_host_compat: true,
        name: `bad\u0001${SECRET}`,
        secrets: { API: SECRET },
      },
    });
    expect(viaMcp.isError).toBe(true);
    expect(JSON.stringify(viaMcp)).not.toContain(SECRET);
    const cli = await runPyro(["workspace", "exec", id, "--cwd", `/root/${SECRET}`, "--", "true"]);
    expect(cli.stderr).toContain("[secret:API]");
    expect(cli.stderr).not.toContain(SECRET);
    const read = (await pyro.readWorkspaceFile({ workspaceId: id, path: `../${SECRET}` }).then(
      () => ({ code: "none", details: null, message: "" }),
      (error: unknown) => error,
    )) as { code: string; details: unknown; message: string };
    expect(read.code).toBe("PATH_OUTSIDE_WORKSPACE");
    expect(JSON.stringify([read.message, read.details])).not.toContain(SECRET);
    expect((await pyro.listWorkspaces()).count).toBe(1);
  });
});
