// The recipes of docs/use-cases.md, as data: the MCP tool calls a chat host makes, in order, with
// what each result must show. `npm run smoke` runs them against real guests (smoke/run.mjs) and
// scripts/use-cases.mjs writes docs/use-cases.md from them, so the page and the pack cannot drift.
//
// In arguments and checks, "{{name}}" is a value saved by an earlier step (`save`). Host paths are
// relative to the folder the MCP server was started in, which holds the recipe's `files`.
// A check maps a dotted path of the tool's structured content to a value that must match:
// a literal (equal), { contains: "text" }, or { some: { …partial object… } } for arrays.

const SUM_BUG = `#!/bin/sh
# sum A B: prints A + B
echo $(( $1 - $2 ))
`;

const SUM_TEST = `#!/bin/sh
out=$(sh sum.sh 2 3)
if [ "$out" = 5 ]; then echo "ok: 2 + 3 = 5"; else echo "FAIL: 2 + 3 gave $out"; exit 1; fi
`;

const SUM_FIX = `--- a/sum.sh
+++ b/sum.sh
@@ -1,3 +1,3 @@
 #!/bin/sh
 # sum A B: prints A + B
-echo $(( $1 - $2 ))
+echo $(( $1 + $2 ))
`;

const TWO_BUGS = {
  "lib.sh": `#!/bin/sh
# Two helpers with one bug each.
upper() { printf '%s\\n' "$1" | tr 'A-Z' 'a-z'; }
count_words() { printf '%s\\n' "$1" | wc -c; }
`,
  "test.sh": `#!/bin/sh
. ./lib.sh
failed=0
[ "$(upper hello)" = HELLO ] || { echo "FAIL upper"; failed=$((failed + 1)); }
[ "$(count_words 'a b c')" -eq 3 ] || { echo "FAIL count_words"; failed=$((failed + 1)); }
echo "$failed failed"
[ "$failed" -eq 0 ]
`,
};

const UPPER_FIX = `--- a/lib.sh
+++ b/lib.sh
@@ -1,4 +1,4 @@
 #!/bin/sh
 # Two helpers with one bug each.
-upper() { printf '%s\\n' "$1" | tr 'A-Z' 'a-z'; }
+upper() { printf '%s\\n' "$1" | tr 'a-z' 'A-Z'; }
 count_words() { printf '%s\\n' "$1" | wc -c; }
`;

const COUNT_FIX = `--- a/lib.sh
+++ b/lib.sh
@@ -1,4 +1,4 @@
 #!/bin/sh
 # Two helpers with one bug each.
 upper() { printf '%s\\n' "$1" | tr 'a-z' 'A-Z'; }
-count_words() { printf '%s\\n' "$1" | wc -c; }
+count_words() { printf '%s\\n' "$1" | wc -w; }
`;

const SERVER = `use IO::Socket::INET;  # a tiny HTTP server: perl is in every environment
$| = 1;
my $s = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 5, ReuseAddr => 1) or die "$!\\n";
print "listening on $ARGV[0]\\n";
while (my $c = $s->accept) { <$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello from the guest\\n"; close $c; print "served a request\\n" }
`;

/** @type {import("./recipes.d.mts").Recipe[]} */
export const RECIPES = [
  {
    id: "repro-fix-loop",
    title: "Reproduce a bug, fix it, checkpoint, and hand back the patch",
    summary:
      "The agent gets a small project with a failing test. It reproduces the failure in a fresh microVM, reads the code, applies a fix, checkpoints the green state, tries a riskier change, goes back to the checkpoint when that fails, and hands back the fix as a patch that applies to the user's own copy.",
    profile: "workspace-full",
    files: { "project/sum.sh": SUM_BUG, "project/test.sh": SUM_TEST },
    steps: [
      {
        say: "Create a workspace seeded from the project; its create-time /workspace is the baseline.",
        tool: "workspace_create",
        args: { environment: "debian:12", seed_path: "./project", name: "repro-fix-loop", mem_mib: 512 },
        expect: { state: "running", execution_mode: "guest_serial", "seed.entry_count": 2 },
        save: { ws: "workspace_id" },
      },
      {
        say: "Reproduce the bug.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 1, stdout: { contains: "FAIL: 2 + 3 gave -1" } },
      },
      {
        say: "Read the code under test.",
        tool: "workspace_file_read",
        args: { workspace_id: "{{ws}}", path: "sum.sh" },
        expect: { content: { contains: "$1 - $2" } },
      },
      {
        say: "Apply the fix as a unified diff (all or nothing).",
        tool: "workspace_patch_apply",
        args: { workspace_id: "{{ws}}", patch: SUM_FIX },
        expect: { modified: 1 },
      },
      {
        say: "The test passes now.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 0, stdout: { contains: "ok: 2 + 3 = 5" } },
      },
      {
        say: "Checkpoint the green state.",
        tool: "snapshot_create",
        args: { workspace_id: "{{ws}}", snapshot_name: "fixed" },
        expect: { name: "fixed" },
      },
      {
        say: "Try a riskier change; it breaks the test.",
        tool: "workspace_file_write",
        args: { workspace_id: "{{ws}}", path: "sum.sh", text: "#!/bin/sh\necho $(( $1 * $2 ))\n" },
      },
      {
        say: "",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 1, stdout: { contains: "gave 6" } },
      },
      {
        say: "Go back to the checkpoint: a fresh guest with /workspace as it was at the snapshot.",
        tool: "workspace_reset",
        args: { workspace_id: "{{ws}}", snapshot: "fixed" },
        expect: { state: "running", reset_count: 1 },
      },
      {
        say: "",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 0 },
      },
      {
        say: "Diff against the baseline: exactly the fix.",
        tool: "workspace_diff",
        args: { workspace_id: "{{ws}}" },
        expect: { "summary.modified": 1, patch: { contains: "+echo $(( $1 + $2 ))" } },
        save: { patch: "patch" },
      },
      {
        say: "Export the fixed file to the host (written only inside output_path).",
        tool: "workspace_export",
        args: { workspace_id: "{{ws}}", path: "sum.sh", output_path: "./fixed-sum.sh" },
        expect: { artifact_type: "file" },
      },
      {
        say: "Hand the fix back to the user's own copy of the project.",
        host: "apply_patch",
        args: { patch: "{{patch}}", dir: "./project", file: "sum.sh" },
        expect: { content: { contains: "$1 + $2" } },
      },
      {
        say: "Done: delete the workspace with its baseline and snapshots.",
        tool: "workspace_delete",
        args: { workspace_id: "{{ws}}" },
      },
    ],
  },
  {
    id: "cold-start-validation",
    title: "Cold-start validation of a repository",
    summary:
      "Before touching a repository, the agent checks that it builds and passes its checks in a clean machine: nothing from the user's host leaks in but the files, and the history of what ran is kept.",
    profile: "workspace-core",
    files: {
      "repo/README.md": "# greeter\n",
      "repo/greet.sh": '#!/bin/sh\necho "hello, ${1:-world}"\n',
      "repo/ci/check.sh":
        '#!/bin/sh\nset -e\nfor f in *.sh ci/*.sh; do sh -n "$f"; done\necho "syntax ok"\n[ "$(sh greet.sh pyro)" = "hello, pyro" ]\necho "all checks passed"\n',
    },
    git: "repo",
    steps: [
      {
        say: "Seed a workspace from the repository, .git included.",
        tool: "workspace_create",
        args: {
          environment: "debian:12",
          seed_path: "./repo",
          name: "validate-greeter",
          labels: { purpose: "ci" },
          mem_mib: 512,
        },
        expect: { state: "running", execution_mode: "guest_serial", "labels.purpose": "ci" },
        save: { ws: "workspace_id" },
      },
      {
        say: "The history came along.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "git log --oneline && git status --short" },
        expect: { exit_code: 0, stdout: { contains: "initial import" } },
      },
      {
        say: "Run the repository's checks.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh ci/check.sh", timeout_seconds: 60 },
        expect: { exit_code: 0, stdout: { contains: "all checks passed" } },
      },
      {
        say: "What ran, with exit codes and durations.",
        tool: "workspace_logs",
        args: { workspace_id: "{{ws}}" },
        expect: { count: 2, commands: { some: { command: "sh ci/check.sh", exit_code: 0 } } },
      },
      {
        say: "",
        tool: "workspace_delete",
        args: { workspace_id: "{{ws}}" },
      },
    ],
  },
  {
    id: "test-loop-snapshots",
    title: "A test loop with snapshots",
    summary:
      "Two failing tests, fixed one at a time. Each green step is a snapshot, so a wrong attempt costs one reset instead of a rebuild.",
    profile: "workspace-full",
    files: { "project/lib.sh": TWO_BUGS["lib.sh"], "project/test.sh": TWO_BUGS["test.sh"] },
    steps: [
      {
        say: "",
        tool: "workspace_create",
        args: { environment: "debian:12", seed_path: "./project", name: "test-loop", mem_mib: 512 },
        expect: { execution_mode: "guest_serial" },
        save: { ws: "workspace_id" },
      },
      {
        say: "Both tests fail.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 1, stdout: { contains: "2 failed" } },
      },
      {
        say: "Fix the first one.",
        tool: "workspace_patch_apply",
        args: { workspace_id: "{{ws}}", patch: UPPER_FIX },
        expect: { modified: 1 },
      },
      {
        say: "",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 1, stdout: { contains: "1 failed" } },
      },
      {
        say: "Checkpoint the progress.",
        tool: "snapshot_create",
        args: { workspace_id: "{{ws}}", snapshot_name: "upper-fixed" },
      },
      {
        say: "A wrong attempt at the second one: it still fails.",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sed -i 's/wc -c/wc -l/' lib.sh && sh test.sh" },
        expect: { exit_code: 1, stdout: { contains: "1 failed" } },
      },
      {
        say: "Back to the checkpoint.",
        tool: "workspace_reset",
        args: { workspace_id: "{{ws}}", snapshot: "upper-fixed" },
      },
      {
        say: "",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { stdout: { contains: "1 failed" } },
      },
      {
        say: "The right fix.",
        tool: "workspace_patch_apply",
        args: { workspace_id: "{{ws}}", patch: COUNT_FIX },
      },
      {
        say: "",
        tool: "workspace_exec",
        args: { workspace_id: "{{ws}}", command: "sh test.sh" },
        expect: { exit_code: 0, stdout: { contains: "0 failed" } },
      },
      {
        say: "",
        tool: "snapshot_create",
        args: { workspace_id: "{{ws}}", snapshot_name: "green" },
      },
      {
        say: "Both checkpoints are kept until the workspace is deleted.",
        tool: "snapshot_list",
        args: { workspace_id: "{{ws}}" },
        expect: { count: 2, snapshots: { some: { name: "green" } } },
      },
      {
        say: "",
        tool: "workspace_delete",
        args: { workspace_id: "{{ws}}" },
      },
    ],
  },
  {
    id: "app-start-published-port",
    title: "Start an app, wait until it is ready, and reach it from the host",
    summary:
      "The agent starts a web app as a service, pyro waits for its readiness check inside the guest, and the guest port is published on the host's 127.0.0.1 (never on other addresses) so the user or a browser tool can try it. This needs the egress+published-ports policy; the recipe itself sends nothing out.",
    profile: "workspace-full",
    network: true,
    files: { "app/serve.pl": SERVER },
    steps: [
      {
        say: "",
        tool: "workspace_create",
        args: {
          environment: "debian:12",
          seed_path: "./app",
          name: "web-app",
          network_policy: "egress+published-ports",
          mem_mib: 512,
        },
        expect: { network_policy: "egress+published-ports", execution_mode: "guest_serial" },
        save: { ws: "workspace_id" },
      },
      {
        say: "Start the service; port 0 on the host means any free port.",
        tool: "service_start",
        args: {
          workspace_id: "{{ws}}",
          service_name: "web",
          command: "perl serve.pl 8080",
          readiness: { type: "http", url: "http://127.0.0.1:8080/" },
          published_ports: ["0:8080"],
        },
        expect: {
          state: "running",
          ready: true,
          published_ports: { some: { host_address: "127.0.0.1", guest_port: 8080 } },
        },
        save: { port: "published_ports.0.host_port" },
      },
      {
        say: "The host reaches the guest's app on its loopback.",
        host: "http_get",
        args: { url: "http://127.0.0.1:{{port}}/" },
        expect: { body: { contains: "hello from the guest" } },
      },
      {
        say: "The app's own output, kept outside /workspace.",
        tool: "service_logs",
        args: { workspace_id: "{{ws}}", service_name: "web" },
        expect: { logs: { contains: "listening on 8080" } },
      },
      {
        say: "Stopping the service frees the host port.",
        tool: "service_stop",
        args: { workspace_id: "{{ws}}", service_name: "web" },
        expect: { published_ports: [] },
      },
      {
        say: "",
        tool: "workspace_delete",
        args: { workspace_id: "{{ws}}" },
      },
    ],
  },
  {
    id: "parallel-evaluations",
    title: "Evaluate candidate fixes in parallel, one named workspace each",
    summary:
      "Two candidate fixes, each in its own named, labelled workspace from the same seed, tested at the same time. The workspaces never see each other's files; the agent keeps the one that passes.",
    profile: "workspace-core",
    files: { "project/sum.sh": SUM_BUG, "project/test.sh": SUM_TEST },
    steps: [
      {
        say: "Two workspaces from the same seed, created at once.",
        parallel: [
          {
            tool: "workspace_create",
            args: {
              environment: "debian:12",
              seed_path: "./project",
              name: "eval-a",
              labels: { candidate: "a" },
              mem_mib: 512,
            },
            expect: { execution_mode: "guest_serial" },
            save: { a: "workspace_id" },
          },
          {
            tool: "workspace_create",
            args: {
              environment: "debian:12",
              seed_path: "./project",
              name: "eval-b",
              labels: { candidate: "b" },
              mem_mib: 512,
            },
            expect: { execution_mode: "guest_serial" },
            save: { b: "workspace_id" },
          },
        ],
      },
      {
        say: "A different candidate in each.",
        parallel: [
          {
            tool: "workspace_file_write",
            args: { workspace_id: "{{a}}", path: "sum.sh", text: "#!/bin/sh\necho $(( $2 - $1 ))\n" },
          },
          {
            tool: "workspace_file_write",
            args: { workspace_id: "{{b}}", path: "sum.sh", text: "#!/bin/sh\necho $(( $1 + $2 ))\n" },
          },
        ],
      },
      {
        say: "Run the tests in both at the same time.",
        parallel: [
          {
            tool: "workspace_exec",
            args: { workspace_id: "{{a}}", command: "sh test.sh" },
            expect: { exit_code: 1, stdout: { contains: "gave 1" } },
          },
          {
            tool: "workspace_exec",
            args: { workspace_id: "{{b}}", command: "sh test.sh" },
            expect: { exit_code: 0 },
          },
        ],
      },
      {
        say: "Find them again by name.",
        tool: "workspace_list",
        args: {},
        expect: { workspaces: { some: { name: "eval-b", state: "running" } } },
      },
      {
        say: "Keep the winner's diff; delete both.",
        tool: "workspace_diff",
        args: { workspace_id: "{{b}}" },
        expect: { patch: { contains: "+echo $(( $1 + $2 ))" } },
      },
      {
        say: "",
        parallel: [
          { tool: "workspace_delete", args: { workspace_id: "{{a}}" } },
          { tool: "workspace_delete", args: { workspace_id: "{{b}}" } },
        ],
      },
    ],
  },
];
