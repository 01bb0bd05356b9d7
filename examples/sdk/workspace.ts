// A workspace seeded from a host folder: run its test, fix the file, see the diff, delete it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pyro } from "pyro-mcp";

const project = mkdtempSync(join(tmpdir(), "pyro-example-"));
writeFileSync(join(project, "greeting.txt"), "helo\n");
writeFileSync(join(project, "test.sh"), 'grep -qx hello greeting.txt && echo "test passed"\n');

const pyro = new Pyro();
const workspace = await pyro.createWorkspace({ environment: "debian:12", seedPath: project, memMib: 512 });
try {
  const id = workspace.workspace_id;
  const before = await pyro.execWorkspace({ workspaceId: id, command: "sh test.sh" });
  console.log(`before the fix: exit code ${before.exit_code}`);
  await pyro.writeWorkspaceFile({ workspaceId: id, path: "greeting.txt", text: "hello\n" });
  const after = await pyro.execWorkspace({ workspaceId: id, command: "sh test.sh" });
  const diff = await pyro.diffWorkspace({ workspaceId: id });
  console.log(diff.patch.trimEnd());
  console.log(
    JSON.stringify({
      before: before.exit_code,
      after: after.exit_code,
      stdout: after.stdout,
      modified: diff.summary.modified,
    }),
  );
} finally {
  await pyro.deleteWorkspace({ workspaceId: workspace.workspace_id });
  rmSync(project, { recursive: true, force: true });
}
