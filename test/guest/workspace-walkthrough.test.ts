import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

const PATCH = `--- a/src/app.txt
+++ b/src/app.txt
@@ -1,2 +1,2 @@
 name=demo
-version=1
+version=2
--- /dev/null
+++ b/NOTES.md
@@ -0,0 +1 @@
+patched in
--- a/README.md
+++ /dev/null
@@ -1 +0,0 @@
-hello
`;

async function pyro(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await runPyro(args);
  if (result.code !== 0) throw new Error(`pyro ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result;
}

describe("the seed walkthrough on the CLI, in a real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  beforeAll(() => {
    home = useTempPyroHome();
    scratch = mkdtempSync("/tmp/pyro-walk-");
    mkdirSync(join(scratch, "seed", "src"), { recursive: true });
    writeFileSync(join(scratch, "seed", "README.md"), "hello\n");
    writeFileSync(join(scratch, "seed", "src", "app.txt"), "name=demo\nversion=1\n");
    mkdirSync(join(scratch, "more"), { recursive: true });
    writeFileSync(join(scratch, "more", "data.txt"), "synced\n");
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("create → sync push → file read → patch → exec → snapshot → reset → export → diff → delete", async () => {
    const guestKernel = await installedGuestKernel();
    const id = (
      await pyro(
        "workspace",
        "create",
        "debian:12",
        "--seed-path",
        join(scratch, "seed"),
        "--name",
        "walk",
        "--label",
        "k=v",
        "--mem-mib",
        "512",
        "--id-only",
      )
    ).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{12}$/);

    const sync = await pyro(
      "workspace",
      "sync",
      "push",
      id,
      join(scratch, "more"),
      "--dest",
      "/workspace/more",
    );
    expect(sync.stdout).toMatch(
      /\[workspace-sync\] workspace_id=\w+ mode=directory .*destination=\/workspace\/more entry_count=\d+ bytes_written=7 execution_mode=guest_serial/,
    );

    expect((await pyro("workspace", "file", "read", id, "README.md", "--content-only")).stdout).toBe(
      "hello\n",
    );

    const patched = await pyro("workspace", "patch", "apply", id, "--patch", PATCH);
    expect(patched.stdout).toContain("total=3 added=1 modified=1 deleted=1");

    const exec = await runPyro([
      "workspace",
      "exec",
      id,
      "--",
      "cat src/app.txt NOTES.md more/data.txt; uname -r; test ! -e README.md",
    ]);
    expect(exec.code).toBe(0);
    expect(exec.stdout).toBe(`name=demo\nversion=2\npatched in\nsynced\n${guestKernel}\n`);
    expect(exec.stderr).toMatch(
      /\[workspace-exec\] workspace_id=\w+ sequence=1 cwd=\/workspace execution_mode=guest_serial exit_code=0/,
    );

    await pyro("workspace", "snapshot", "create", id, "patched");
    await pyro("workspace", "exec", id, "--", "rm -rf src && echo junk > junk.txt");
    const reset = JSON.parse(
      (await pyro("workspace", "reset", id, "--snapshot", "patched", "--json")).stdout,
    ) as { reset_count: number; command_count: number };
    expect(reset).toMatchObject({ reset_count: 1, command_count: 0 });
    expect(JSON.parse((await pyro("workspace", "logs", id, "--json")).stdout)).toMatchObject({ count: 0 });
    const listing = JSON.parse(
      (await pyro("workspace", "file", "list", id, "--recursive", "--json")).stdout,
    ) as { entries: Array<{ path: string }> };
    expect(listing.entries.map((e) => e.path).sort()).toEqual([
      "NOTES.md",
      "more",
      "more/data.txt",
      "src",
      "src/app.txt",
    ]);

    const out = join(scratch, "exported");
    const exported = await pyro("workspace", "export", id, "src", "--output", out);
    expect(exported.stdout).toMatch(/artifact_type=directory entry_count=\d+ bytes_written=20/);
    expect(readFileSync(join(out, "app.txt"), "utf8")).toBe("name=demo\nversion=2\n");

    const diff = await pyro("workspace", "diff", id);
    expect(diff.stdout).toMatch(
      /\[workspace-diff\] workspace_id=\w+ total=4 added=2 modified=1 deleted=1 type_changed=0 text_patched=4 non_text=0/,
    );
    expect(diff.stdout).toContain("+version=2");
    expect(diff.stdout).toContain("--- a/README.md");

    const status = JSON.parse((await pyro("workspace", "status", id, "--json")).stdout) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      name: "walk",
      labels: { k: "v" },
      state: "running",
      guest_kernel_release: guestKernel,
    });

    await pyro("workspace", "delete", id);
    expect(processesMentioning(id)).toEqual([]);
    const after = await runPyro(["workspace", "status", id]);
    expect(after.stderr).toContain("WORKSPACE_NOT_FOUND");
  });
});
