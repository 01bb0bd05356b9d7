/**
 * The part of bench/network.js that runs inside the lab's pyro-side namespace: it drives the
 * SDK and prints its figures as one JSON line.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Pyro } from "../dist/index.js";
import { LAB_HTTP_PORT, LAB_SERVER } from "../test/fixtures/netns-lab.mjs";
import { median, timeRuns } from "./stats.js";

const quick = process.argv[2] === "quick";
const UNFILTERED = fileURLToPath(new URL("../netstack/build/pyro-netstack-unfiltered", import.meta.url));
const BYTES = 100 * 1000 * 1000;
const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>8080,Listen=>16,ReuseAddr=>1) or die; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n"; close $c}'`;
const PUBLISHED_BYTES = 20 * 1024 * 1024;
// Sends PUBLISHED_BYTES to each connection, for the published-port throughput figure (the
// readiness probe hangs up at once, hence SIGPIPE ignored).
const BULK_SERVER = `perl -MIO::Socket::INET -e '$SIG{PIPE}="IGNORE"; $s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>8081,Listen=>4,ReuseAddr=>1) or die; $b="x" x 65536; while($c=$s->accept){print $c $b for 1..${PUBLISHED_BYTES / 65536}; close $c}'`;
// The guest times its own download (from the request to the last byte) with bash and date.
const GUEST_DOWNLOAD = `s=$(date +%s%N); exec 3<>/dev/tcp/${LAB_SERVER}/${LAB_HTTP_PORT}; printf 'GET /bytes/${BYTES} HTTP/1.0\\r\\n\\r\\n' >&3; n=$(cat <&3 | wc -c); e=$(date +%s%N); echo "$n $(( (e - s) / 1000000 ))"`;

async function hostDownload() {
  const response = await fetch(`http://${LAB_SERVER}:${LAB_HTTP_PORT}/bytes/${BYTES}`);
  let total = 0;
  for await (const chunk of response.body) total += chunk.length;
  if (total !== BYTES) throw new Error(`host download got ${total} bytes`);
}

async function readThrough(port) {
  const { connect } = await import("node:net");
  return new Promise((resolve, reject) => {
    let total = 0;
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("data", (chunk) => (total += chunk.length));
    socket.on("end", () => (total === PUBLISHED_BYTES ? resolve() : reject(new Error(`got ${total} bytes`))));
    socket.on("error", reject);
  });
}

async function get(url) {
  const response = await fetch(url);
  await response.text();
}

/**
 * CPU time (user + system, ms) used so far by the workspace's pyro-netstack: the child named
 * pyro-netstack of the supervisor whose command line names the workspace. Wall time under TCG is
 * dominated by the emulated guest; this is what the helper itself spends.
 */
function helperCpuMs(id) {
  const ticks = 100; // USER_HZ on Linux
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(pyro-netstack")) continue; // comm is cut to 15 bytes
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (!readFileSync(`/proc/${fields[1]}/cmdline`, "utf8").includes(id)) continue;
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no pyro-netstack found for workspace ${id}`);
}

/** Medians of the guest's download time and of the helper's CPU time per download. */
async function guestDownloads(id, rounds) {
  const times = [];
  const cpu = [];
  for (let i = 0; i < rounds; i += 1) {
    const cpuBefore = helperCpuMs(id);
    const run = await pyro.execWorkspace({
      workspaceId: id,
      command: ["bash", "-c", GUEST_DOWNLOAD],
      timeoutSeconds: 300,
    });
    const [received, ms] = run.stdout.trim().split(" ").map(Number);
    if (received < BYTES) throw new Error(`guest download got ${received} bytes: ${run.stderr}`);
    times.push(ms);
    cpu.push(helperCpuMs(id) - cpuBefore);
  }
  return { ms: median(times), cpuMs: median(cpu) };
}

/**
 * The same downloads through pyro-netstack-unfiltered (the frame filter compiled out; built by
 * `make -C netstack unfiltered` for this comparison only), in a workspace of its own that is gone
 * before the main one starts, so one VM runs at a time.
 */
async function unfilteredDownloads(rounds) {
  const previous = process.env.PYRO_NETSTACK_BIN;
  process.env.PYRO_NETSTACK_BIN = UNFILTERED;
  try {
    const ws = await pyro.createWorkspace({ memMib: 1024, networkPolicy: "egress+published-ports" });
    try {
      return await guestDownloads(ws.workspace_id, rounds);
    } finally {
      await pyro.deleteWorkspace({ workspaceId: ws.workspace_id });
    }
  } finally {
    if (previous === undefined) delete process.env.PYRO_NETSTACK_BIN;
    else process.env.PYRO_NETSTACK_BIN = previous;
  }
}

const pyro = new Pyro();
const rounds = quick ? 2 : 5;
// One VM at a time: first the comparison without the filter, in a workspace of the same shape.
const unfiltered = await unfilteredDownloads(rounds);
const ws = await pyro.createWorkspace({ memMib: 1024, networkPolicy: "egress+published-ports" });
const id = ws.workspace_id;
let figures;
try {
  const guest = await guestDownloads(id, rounds);
  const hostMs = await timeRuns(rounds, hostDownload);
  const service = await pyro.startService({
    workspaceId: id,
    serviceName: "web",
    command: HTTP_SERVER,
    readiness: { type: "http", url: "http://127.0.0.1:8080/" },
    publishedPorts: ["0:8080"],
  });
  const published = `http://127.0.0.1:${service.published_ports[0].host_port}/`;
  const requests = quick ? 20 : 100;
  await get(published); // warm: the first request pays for perl's first accept
  const publishedMs = await timeRuns(requests, () => get(published));
  const directMs = await timeRuns(requests, () => get(`http://${LAB_SERVER}:${LAB_HTTP_PORT}/hello`));
  const bulk = await pyro.startService({
    workspaceId: id,
    serviceName: "bulk",
    command: BULK_SERVER,
    readiness: { type: "tcp", address: "127.0.0.1:8081" },
    publishedPorts: ["0:8081"],
  });
  const bulkMs = await timeRuns(rounds, () => readThrough(bulk.published_ports[0].host_port));
  figures = {
    bytes: BYTES,
    guestDownloadMs: guest.ms,
    helperCpuMs: guest.cpuMs,
    hostDownloadMs: median(hostMs),
    publishedMs: median(publishedMs),
    directMs: median(directMs),
    publishedBytes: PUBLISHED_BYTES,
    publishedBulkMs: median(bulkMs),
  };
} finally {
  await pyro.deleteWorkspace({ workspaceId: id });
}
figures.unfilteredDownloadMs = unfiltered.ms;
figures.unfilteredHelperCpuMs = unfiltered.cpuMs;
process.stdout.write(`${JSON.stringify(figures)}\n`);
