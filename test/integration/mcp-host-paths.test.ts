import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const codeOf = (result: CallToolResult): string | undefined =>
  result.isError ? (result.structuredContent as { error: { code: string } }).error.code : undefined;

describe("host paths over MCP are confined to the server's folder and --allow-host-path", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let root: string; // the MCP server's working directory
  let outside: string; // a folder the server was not given
  let workspaceId: string;
  const clients: Client[] = [];

  async function serve(args: string[] = []): Promise<Client> {
    const client = await connectMcp("workspace-full", [], { args, cwd: root });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    root = mkdtempSync("/tmp/pyro-paths-root-");
    outside = mkdtempSync("/tmp/pyro-paths-out-");
    writeFileSync(join(outside, "secret.txt"), "outside secret\n");
    mkdirSync(join(outside, "tree"));
    writeFileSync(join(outside, "tree", "f.txt"), "outside tree\n");
    writeFileSync(join(outside, "target.txt"), "do not overwrite\n");
    writeFileSync(join(root, "inside.txt"), "inside text\n");
    mkdirSync(join(root, "seed"));
    writeFileSync(join(root, "seed", "hello.txt"), "seeded\n");
    symlinkSync(outside, join(root, "escape")); // a folder link inside the root pointing out
    symlinkSync(join(outside, "target.txt"), join(root, "leaf-link")); // a file link pointing out
    symlinkSync(join(outside, "missing.txt"), join(root, "dangling"));
    const ws = await pyro.createWorkspace({
      environment: "debian:12",
      backend: "host",
      allowHostCompat: true,
    });
    workspaceId = ws.workspace_id;
    await pyro.writeWorkspaceFile({ workspaceId, path: "note.txt", text: "from the guest\n" });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    if (workspaceId) await pyro.deleteWorkspace({ workspaceId });
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
    home.cleanup();
  });

  /** Every host path parameter, each with a path to try; `id` is a workspace id to use. */
  const attempts = (
    path: (kind: "file" | "dir" | "new") => string,
    id: string,
  ): Array<[string, Record<string, unknown>]> => [
    ["workspace_create", { environment: "nope:1", seed_path: path("dir") }],
    ["workspace_create", { environment: "nope:1", secret_files: { TOKEN: path("file") } }],
    ["workspace_sync_push", { workspace_id: id, source_path: path("dir") }],
    ["workspace_file_write", { workspace_id: id, path: "x.txt", text_file: path("file") }],
    ["workspace_export", { workspace_id: id, path: "note.txt", output_path: path("new") }],
    ["workspace_disk_export", { workspace_id: id, output_path: path("new") }],
  ];

  const outsidePaths = {
    absolute: (kind: "file" | "dir" | "new") =>
      kind === "file"
        ? join(outside, "secret.txt")
        : kind === "dir"
          ? join(outside, "tree")
          : join(outside, "new.out"),
    "a symlink inside the root": (kind: "file" | "dir" | "new") =>
      kind === "file" ? "escape/secret.txt" : kind === "dir" ? "escape/tree" : "escape/new.out",
    "..": (kind: "file" | "dir" | "new") =>
      `../${basename(outside)}/${kind === "file" ? "secret.txt" : kind === "dir" ? "tree" : "new.out"}`,
  };

  it.each(Object.keys(outsidePaths))("refuses every host path parameter given as %s", async (how) => {
    const client = await serve();
    const path = outsidePaths[how as keyof typeof outsidePaths];
    for (const [tool, args] of attempts(path, workspaceId)) {
      const result = await call(client, tool, args);
      expect(codeOf(result), `${tool} ${JSON.stringify(args)}`).toBe("HOST_PATH_DENIED");
      expect(JSON.stringify(result.content)).toContain("--allow-host-path");
    }
    expect(existsSync(join(outside, "new.out"))).toBe(false);
  });

  it("refuses an output through a file symlink or a dangling symlink, and leaves the target alone", async () => {
    const client = await serve();
    for (const output of ["leaf-link", "dangling"]) {
      const result = await call(client, "workspace_export", {
        workspace_id: workspaceId,
        path: "note.txt",
        output_path: output,
        overwrite: true,
      });
      expect(codeOf(result), output).toBe("HOST_PATH_DENIED");
    }
    expect(readFileSync(join(outside, "target.txt"), "utf8")).toBe("do not overwrite\n");
    expect(existsSync(join(outside, "missing.txt"))).toBe(false);
  });

  it("allows paths inside its folder, relative or absolute", async () => {
    const client = await serve();
    const write = await call(client, "workspace_file_write", {
      workspace_id: workspaceId,
      path: "copied.txt",
      text_file: "inside.txt",
    });
    expect(write.isError).toBeFalsy();
    const exported = await call(client, "workspace_export", {
      workspace_id: workspaceId,
      path: "copied.txt",
      output_path: join(root, "exported.txt"),
    });
    expect(exported.isError).toBeFalsy();
    expect(readFileSync(join(root, "exported.txt"), "utf8")).toBe("inside text\n");
    const synced = await call(client, "workspace_sync_push", {
      workspace_id: workspaceId,
      source_path: "seed",
    });
    expect(synced.isError).toBeFalsy();
    // The remaining parameters pass the check and fail later for their own reasons.
    const inside = (kind: "file" | "dir" | "new") =>
      kind === "file" ? "inside.txt" : kind === "dir" ? "seed" : "disk.img";
    for (const [tool, args] of attempts(inside, "no-such-workspace")) {
      expect(codeOf(await call(client, tool, args)), tool).not.toBe("HOST_PATH_DENIED");
    }
  });

  it("allows a folder given with --allow-host-path (repeatable)", async () => {
    const other = mkdtempSync("/tmp/pyro-paths-other-");
    try {
      const client = await serve(["--allow-host-path", outside, "--allow-host-path", other]);
      for (const how of Object.values(outsidePaths)) {
        for (const [tool, args] of attempts(how, "no-such-workspace")) {
          expect(codeOf(await call(client, tool, args)), `${tool} ${JSON.stringify(args)}`).not.toBe(
            "HOST_PATH_DENIED",
          );
        }
      }
      const exported = await call(client, "workspace_export", {
        workspace_id: workspaceId,
        path: "note.txt",
        output_path: join(other, "note.txt"),
      });
      expect(exported.isError).toBeFalsy();
      expect(readFileSync(join(other, "note.txt"), "utf8")).toBe("from the guest\n");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("refuses to start with a folder that does not exist", async () => {
    const result = await runPyro(["mcp", "serve", "--allow-host-path", join(outside, "nope")]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("INVALID_ARGUMENT");
  });

  it("leaves the CLI and the SDK unrestricted: their caller is the user", async () => {
    const sdk = await pyro.writeWorkspaceFile({
      workspaceId,
      path: "sdk.txt",
      textFile: join(outside, "secret.txt"),
    });
    expect(sdk.bytes_written).toBe("outside secret\n".length);
    await pyro.exportWorkspace({ workspaceId, path: "sdk.txt", outputPath: join(outside, "sdk.out") });
    expect(readFileSync(join(outside, "sdk.out"), "utf8")).toBe("outside secret\n");
    const cli = await runPyro([
      "workspace",
      "export",
      workspaceId,
      "note.txt",
      "--output",
      join(outside, "cli.out"),
    ]);
    expect(cli.code).toBe(0);
    expect(readFileSync(join(outside, "cli.out"), "utf8")).toBe("from the guest\n");
  });
});
