import type { Command } from "commander";
import type { WorkspaceExecOutcome } from "../../sandbox/workspace/exec.js";
import type { WorkspaceInfo } from "../../sandbox/workspace/views.js";
import { EXIT_TIMED_OUT, PyroError } from "../../errors/index.js";
import { commandFromArgs } from "./command-args.js";
import { forwardTo } from "./forward.js";
import { registerShellsAndServices } from "./shell-service-commands.js";
import {
  integerOption,
  runForCli,
  runForCliQuiet,
  stripUndefined,
  type Flags,
  collect,
  wantsJson,
} from "./output.js";

/** Repeated KEY=VALUE options into an object; a pair without "=" is a usage error (never echoing a secret). */
function pairsFrom(flag: string, pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined) return undefined;
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new PyroError("INVALID_ARGUMENT", `${flag} wants NAME=VALUE`);
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
}

const labelsFrom = (pairs: string[] | undefined): Record<string, string> | undefined =>
  pairsFrom("--label", pairs);

/** `pyro workspace …`: persistent sandboxes, one command per workspace_* and snapshot_* operation. */
export function registerWorkspace(program: Command, setExit: (code: number) => void): void {
  const workspace = program
    .command("workspace")
    .description("Persistent workspaces: create, edit, exec, diff, snapshot, reset, export");

  workspace
    .command("create")
    .description("Create a workspace (its own microVM), optionally seeded from a directory or archive")
    .argument("[environment]", "environment name (default debian:12)")
    .option("--seed-path <path>", "host directory or .tar/.tar.gz/.tgz copied into /workspace")
    .option("--name <name>", "a human name")
    .option("--label <key=value>", "a label (repeatable)", collect)
    .option("--vcpu-count <n>", "virtual CPUs (default 1)", integerOption("--vcpu-count"))
    .option("--mem-mib <n>", "guest memory in MiB (default 1024)", integerOption("--mem-mib"))
    .option("--ttl-seconds <n>", "lifetime in seconds (default 600)", integerOption("--ttl-seconds"))
    .option("--backend <name>", "auto, qemu, firecracker or host")
    .option("--allow-host-compat", "allow running without isolation when no VM can run")
    .option("--network-policy <policy>", "off (default), egress or egress+published-ports")
    .option(
      "--allow-private-egress",
      "let egress reach private ranges (10/8, 172.16/12, 192.168/16, 100.64/10)",
    )
    .option("--secret <NAME=VALUE>", "a secret (repeatable)", collect)
    .option("--secret-file <NAME=PATH>", "a secret read from a host file (repeatable)", collect)
    .option("--id-only", "print only the new workspace's id")
    .option("--json", "print JSON")
    .action(async (environment: string | undefined, flags: Flags) => {
      const input = stripUndefined({
        environment,
        seed_path: flags.seedPath,
        name: flags.name,
        labels: labelsFrom(flags.label as string[] | undefined),
        vcpu_count: flags.vcpuCount,
        mem_mib: flags.memMib,
        ttl_seconds: flags.ttlSeconds,
        backend: flags.backend,
        allow_host_compat: flags.allowHostCompat,
        network_policy: flags.networkPolicy,
        allow_private_egress: flags.allowPrivateEgress,
        secrets: pairsFrom("--secret", flags.secret as string[] | undefined),
        secret_files: pairsFrom("--secret-file", flags.secretFile as string[] | undefined),
      });
      if (flags.idOnly !== true)
        return setExit(
          await runForCli("workspace_create", input, { json: wantsJson(flags), scope: "workspace-create" }),
        );
      const { output, exitCode } = await runForCliQuiet("workspace_create", input, {
        json: false,
        scope: "workspace-create",
      });
      if (exitCode === 0) process.stdout.write(`${(output as WorkspaceInfo).workspace_id}\n`);
      setExit(exitCode);
    });

  workspace
    .command("list")
    .description("List workspaces, most recent activity first")
    .option("--json", "print JSON")
    .action(async (flags: Flags) =>
      setExit(await runForCli("workspace_list", {}, { json: wantsJson(flags), scope: "workspace" })),
    );

  workspace
    .command("update")
    .description("Rename a workspace or change its labels")
    .argument("<workspace-id>", "workspace id")
    .option("--name <name>", "new name")
    .option("--label <key=value>", "set a label (repeatable)", collect)
    .option("--clear-label <key>", "remove a label (repeatable)", collect)
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) => {
      const input = stripUndefined({
        workspace_id: id,
        name: flags.name,
        labels: labelsFrom(flags.label as string[] | undefined),
        clear_labels: flags.clearLabel,
      });
      setExit(await runForCli("workspace_update", input, { json: wantsJson(flags), scope: "workspace" }));
    });

  for (const [verb, operation, description] of [
    ["stop", "workspace_stop", "Stop the sandbox (the guest flushes and powers off)"],
    ["start", "workspace_start", "Boot a stopped workspace's disk again"],
    ["status", "workspace_status", "Show a workspace's state"],
    ["logs", "workspace_logs", "Show the command history"],
    ["delete", "workspace_delete", "Delete a workspace and everything it has"],
    ["diff", "workspace_diff", "Compare /workspace with the create-time baseline"],
  ] as const) {
    workspace
      .command(verb)
      .description(description)
      .argument("<workspace-id>", "workspace id")
      .option("--json", "print JSON")
      .action(async (id: string, flags: Flags) =>
        setExit(
          await runForCli(
            operation,
            { workspace_id: id },
            { json: wantsJson(flags), scope: `workspace-${verb}` },
          ),
        ),
      );
  }

  workspace
    .command("sync")
    .description("Copy host files into a workspace")
    .command("push")
    .description("Copy a host directory, file or archive into /workspace (not atomic)")
    .argument("<workspace-id>", "workspace id")
    .argument("<source>", "host directory, file, or .tar/.tar.gz/.tgz archive")
    .option("--dest <dir>", "destination inside /workspace (default /workspace)")
    .option("--json", "print JSON")
    .action(async (id: string, source: string, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_sync_push",
          stripUndefined({ workspace_id: id, source_path: source, dest: flags.dest }),
          { json: wantsJson(flags), scope: "workspace-sync" },
        ),
      ),
    );

  workspace
    .command("exec")
    .description("Run a command in a workspace (exit code = the command's)")
    .argument("<workspace-id>", "workspace id")
    .argument("[command...]", "command after --; one argument runs via /bin/sh -c, several are an argv")
    .option(
      "--timeout-seconds <n>",
      "kill the command after N seconds (default 30)",
      integerOption("--timeout-seconds"),
    )
    .option("--cwd <dir>", "working directory inside /workspace")
    .option("--secret-env <NAME[=ENV]>", "pass a secret as an environment variable (repeatable)", collect)
    .option("--json", "print the result as JSON instead of streaming output")
    .action(async (id: string, args: string[], flags: Flags) => {
      const input = stripUndefined({
        workspace_id: id,
        command: commandFromArgs(args),
        timeout_seconds: flags.timeoutSeconds,
        cwd: flags.cwd,
        secret_env: flags.secretEnv,
      });
      const streaming = wantsJson(flags)
        ? {}
        : { onStdout: forwardTo(process.stdout), onStderr: forwardTo(process.stderr) };
      const { output, exitCode } = await runForCliQuiet("workspace_exec", input, {
        json: wantsJson(flags),
        scope: "workspace-exec",
        context: streaming,
      });
      if (exitCode !== 0) return setExit(exitCode);
      const outcome = output as WorkspaceExecOutcome;
      if (wantsJson(flags)) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
      const { renderWorkspaceExec } = await import("../../api/workspace.js");
      process.stderr.write(`${renderWorkspaceExec(outcome)}\n`);
      setExit(outcome.timed_out ? EXIT_TIMED_OUT : outcome.exit_code);
    });

  const file = workspace.command("file").description("List, read and write files of /workspace");
  file
    .command("list")
    .argument("<workspace-id>", "workspace id")
    .argument("[path]", "path inside /workspace (default /workspace)")
    .option("--recursive", "list the whole tree")
    .option("--json", "print JSON")
    .action(async (id: string, path: string | undefined, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_file_list",
          stripUndefined({ workspace_id: id, path, recursive: flags.recursive === true }),
          { json: wantsJson(flags), scope: "workspace-file" },
        ),
      ),
    );
  file
    .command("read")
    .argument("<workspace-id>", "workspace id")
    .argument("<path>", "file inside /workspace")
    .option("--max-bytes <n>", "read at most N bytes (default 262144)", integerOption("--max-bytes"))
    .option("--content-only", "print only the file's content")
    .option("--json", "print JSON")
    .action(async (id: string, path: string, flags: Flags) => {
      const input = stripUndefined({ workspace_id: id, path, max_bytes: flags.maxBytes });
      if (flags.contentOnly !== true) {
        return setExit(
          await runForCli("workspace_file_read", input, { json: wantsJson(flags), scope: "workspace-file" }),
        );
      }
      const { output, exitCode } = await runForCliQuiet("workspace_file_read", input, {
        json: false,
        scope: "workspace-file",
      });
      if (exitCode === 0) {
        const read = output as { content: string; encoding: "utf8" | "base64" };
        process.stdout.write(read.encoding === "utf8" ? read.content : Buffer.from(read.content, "base64"));
      }
      setExit(exitCode);
    });
  file
    .command("write")
    .argument("<workspace-id>", "workspace id")
    .argument("<path>", "file inside /workspace")
    .option("--text <text>", "the new content")
    .option("--text-file <file>", "host file holding the new content")
    .option("--json", "print JSON")
    .action(async (id: string, path: string, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_file_write",
          stripUndefined({ workspace_id: id, path, text: flags.text, text_file: flags.textFile }),
          { json: wantsJson(flags), scope: "workspace-file" },
        ),
      ),
    );

  workspace
    .command("patch")
    .description("Apply unified diffs to /workspace")
    .command("apply")
    .description("Apply a unified diff, all or nothing")
    .argument("<workspace-id>", "workspace id")
    .option("--patch <text>", "the diff text")
    .option("--patch-file <file>", "host file holding the diff")
    .option(
      "--strip <n>",
      "remove N leading path components, like patch -pN (default: detected)",
      integerOption("--strip"),
    )
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) => {
      let patch = flags.patch as string | undefined;
      if ((patch === undefined) === (flags.patchFile === undefined)) {
        throw new PyroError("INVALID_ARGUMENT", "give exactly one of --patch and --patch-file");
      }
      if (patch === undefined) {
        const { readFile } = await import("node:fs/promises");
        patch = await readFile(flags.patchFile as string, "utf8").catch((error: Error) => {
          throw new PyroError("FILE_NOT_FOUND", `cannot read ${String(flags.patchFile)}: ${error.message}`, {
            hint: "--patch-file is a path on the host; check it exists and is readable.",
          });
        });
      }
      setExit(
        await runForCli(
          "workspace_patch_apply",
          stripUndefined({ workspace_id: id, patch, strip: flags.strip }),
          { json: wantsJson(flags), scope: "workspace-patch" },
        ),
      );
    });

  workspace
    .command("export")
    .description("Copy a file or directory of /workspace to the host")
    .argument("<workspace-id>", "workspace id")
    .argument("<path>", "path inside /workspace")
    .requiredOption("--output <hostpath>", "host path to create")
    .option("--overwrite", "replace the output path if it exists")
    .option("--trust-git-metadata", "keep .git hooks and program-running config keys as the guest wrote them")
    .option("--json", "print JSON")
    .action(async (id: string, path: string, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_export",
          {
            workspace_id: id,
            path,
            output_path: flags.output,
            overwrite: flags.overwrite === true,
            trust_git_metadata: flags.trustGitMetadata === true,
          },
          { json: wantsJson(flags), scope: "workspace-export" },
        ),
      ),
    );

  workspace
    .command("reset")
    .description("Recreate the sandbox and restore /workspace from the baseline or a snapshot")
    .argument("<workspace-id>", "workspace id")
    .option("--snapshot <name>", "snapshot to restore (default: the baseline)")
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) =>
      setExit(
        await runForCli("workspace_reset", stripUndefined({ workspace_id: id, snapshot: flags.snapshot }), {
          json: wantsJson(flags),
          scope: "workspace-reset",
        }),
      ),
    );

  registerShellsAndServices(workspace, setExit);

  const disk = workspace.command("disk").description("Inspect a stopped workspace's disk without booting it");
  disk
    .command("list")
    .argument("<workspace-id>", "workspace id")
    .argument("[path]", "path on the disk (default /workspace)")
    .option("--recursive", "list the whole tree")
    .option("--json", "print JSON")
    .action(async (id: string, path: string | undefined, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_disk_list",
          stripUndefined({ workspace_id: id, path, recursive: flags.recursive === true }),
          {
            json: wantsJson(flags),
            scope: "workspace-disk",
          },
        ),
      ),
    );
  disk
    .command("read")
    .argument("<workspace-id>", "workspace id")
    .argument("<path>", "file on the disk")
    .option("--max-bytes <n>", "read at most N bytes", integerOption("--max-bytes"))
    .option("--json", "print JSON")
    .action(async (id: string, path: string, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_disk_read",
          stripUndefined({ workspace_id: id, path, max_bytes: flags.maxBytes }),
          {
            json: wantsJson(flags),
            scope: "workspace-disk",
          },
        ),
      ),
    );
  disk
    .command("export")
    .argument("<workspace-id>", "workspace id")
    .requiredOption("--output <file>", "host file for the raw ext4 image")
    .option("--overwrite", "replace the output if it exists")
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) =>
      setExit(
        await runForCli(
          "workspace_disk_export",
          { workspace_id: id, output_path: flags.output, overwrite: flags.overwrite === true },
          { json: wantsJson(flags), scope: "workspace-disk" },
        ),
      ),
    );

  const snapshot = workspace.command("snapshot").description("Named snapshots of /workspace");
  for (const [verb, operation] of [
    ["create", "snapshot_create"],
    ["delete", "snapshot_delete"],
  ] as const) {
    snapshot
      .command(verb)
      .argument("<workspace-id>", "workspace id")
      .argument("<name>", "snapshot name")
      .option("--json", "print JSON")
      .action(async (id: string, name: string, flags: Flags) =>
        setExit(
          await runForCli(
            operation,
            { workspace_id: id, snapshot_name: name },
            { json: wantsJson(flags), scope: "workspace-snapshot" },
          ),
        ),
      );
  }
  snapshot
    .command("list")
    .argument("<workspace-id>", "workspace id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) =>
      setExit(
        await runForCli(
          "snapshot_list",
          { workspace_id: id },
          { json: wantsJson(flags), scope: "workspace-snapshot" },
        ),
      ),
    );
}
