/** Shell and service figures: write→read round trip through a PTY shell, service start→ready. */
import { Pyro } from "../dist/index.js";
import { formatMs, median, report, timeRuns } from "./stats.js";

const pyro = new Pyro();
const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>$ARGV[0],Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nok\\n"; close $c}'`;

/**
 * Writes a line and reads until its answer shows up (no idle wait: the pure round trip). The
 * answer is computed by the shell, so the echoed input line never matches it.
 */
async function shellRoundTrip(id, shellId, cursor, i) {
  const answer = `rt-${i + 1000}`;
  await pyro.writeShell({ workspaceId: id, shellId, input: `echo rt-$((${i}+1000))` });
  let seen = "";
  for (;;) {
    const read = await pyro.readShell({ workspaceId: id, shellId, cursor: cursor.value });
    cursor.value = read.next_cursor;
    seen += read.output;
    if (seen.includes(answer)) return;
  }
}

export async function benchShells({ quick }) {
  const ws = await pyro.createWorkspace({ memMib: 512 });
  const id = ws.workspace_id;
  try {
    const rounds = quick ? 5 : 15;
    const shell = await pyro.openShell({ workspaceId: id });
    const cursor = {
      value: (await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, waitForIdleMs: 1000 }))
        .next_cursor,
    };
    const shellTrip = median(await timeRuns(rounds, (i) => shellRoundTrip(id, shell.shell_id, cursor, i)));
    const exec = median(
      await timeRuns(rounds, () => pyro.execWorkspace({ workspaceId: id, command: ["echo", "x"] })),
    );
    const plain = median(
      await timeRuns(rounds, () =>
        pyro.startService({
          workspaceId: id,
          serviceName: `p${Math.random().toString(16).slice(2, 8)}`,
          command: "exec sleep 600",
        }),
      ),
    );
    const fileReady = median(
      await timeRuns(quick ? 3 : 5, (i) =>
        pyro.startService({
          workspaceId: id,
          serviceName: `file${i}`,
          command: `touch /tmp/ready-${i}; exec sleep 600`,
          readiness: { type: "file", path: `/tmp/ready-${i}` },
          readyIntervalMs: 100,
        }),
      ),
    );
    const ready = median(
      await timeRuns(quick ? 2 : 5, (i) =>
        pyro.startService({
          workspaceId: id,
          serviceName: `web${i}`,
          command: `${HTTP_SERVER} ${9000 + i}`,
          readiness: { type: "http", url: `http://127.0.0.1:${9000 + i}/` },
          readyIntervalMs: 100,
        }),
      ),
    );
    report("Shells and services", [
      ["shell write -> read round trip (median)", formatMs(shellTrip)],
      ["workspace exec `echo x` round trip (median)", formatMs(exec)],
      ["ratio shell round trip / exec", `${(shellTrip / exec).toFixed(2)}x`],
      ["service start, no readiness check (median)", formatMs(plain)],
      ["service start -> ready (file check, median)", formatMs(fileReady)],
      ["service start -> ready (perl HTTP server, HTTP check, median)", formatMs(ready)],
      ["ratio file-ready / exec round trip", `${(fileReady / exec).toFixed(1)}x`],
    ]);
  } finally {
    await pyro.deleteWorkspace({ workspaceId: id });
  }
}
