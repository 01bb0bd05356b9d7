import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { httpGetIn, pyroWith } from "../helpers/lab-cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import {
  LAB_HTTP_PORT,
  LAB_NAME,
  LAB_SERVER,
  canCreateLab,
  createLab,
  type Lab,
} from "../fixtures/netns-lab.mjs";

// Every pyro process of this file runs inside a namespace pair the test makes: egress NATs only
// to the lab server, so no packet can leave the machine.
const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>8080,Listen=>5,ReuseAddr=>1) or die "listen: $!"; $|=1; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nfrom the guest\\n"; close $c}'`;
const FETCH_LAB = `exec 3<>/dev/tcp/${LAB_NAME}/${LAB_HTTP_PORT} && printf 'GET /hello HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n1 <&3`;
const SDK_SCENARIO = fileURLToPath(new URL("../fixtures/sdk-network-scenario.mjs", import.meta.url));
const HOST_KERNEL = execFileSync("uname", ["-r"]).toString().trim();

describe.skipIf(!canCreateLab())("network policies in a real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let lab: Lab;
  let ns: string[];
  const pyro = (...args: string[]) => pyroWith(ns, args);
  // What listens in the pyro side's namespace, as `ss` reports it.
  const listeners = () => execFileSync("ip", ["netns", "exec", lab.pyroNs, "ss", "-ltnH"]).toString();
  const httpGet = (port: number) => httpGetIn(lab.pyroNs, port);

  beforeAll(async () => {
    home = useTempPyroHome();
    lab = await createLab();
    ns = ["ip", "netns", "exec", lab.pyroNs];
  });
  afterAll(() => {
    lab?.close();
    home.cleanup();
  });

  it("run --network reaches the lab by name; policy off has loopback only", async () => {
    const online = await pyro("run", "debian:12", "--network", "--", "bash", "-c", `${FETCH_LAB}; uname -r`);
    expect(online.stderr).toContain("exit_code=0");
    const [body, kernel] = online.stdout.trim().split("\n");
    expect(body).toBe("hello from the lab");
    expect(kernel).not.toBe(HOST_KERNEL); // it ran in the guest

    const offline = await pyro(
      "run",
      "debian:12",
      "--",
      "bash",
      "-c",
      `ls /sys/class/net; exec 3<>/dev/tcp/${LAB_SERVER}/${LAB_HTTP_PORT}`,
    );
    expect(offline.stdout.trim()).toBe("lo");
    expect(offline.stderr).toContain("Network is unreachable");
  });

  it("keeps the host's loopback out of reach, publishes on 127.0.0.1 only, and frees ports (CLI and MCP)", async () => {
    // A service on the host's loopback that the guest must not reach, counting its connections.
    const loopback: ChildProcess = spawn(
      "ip",
      [
        "netns",
        "exec",
        lab.pyroNs,
        process.execPath,
        "-e",
        `let n=0; require("net").createServer(s=>{n++; s.end("secret\\n")}).listen(9099,"127.0.0.1",()=>console.log("up")); process.stdin.on("data",()=>console.log(n))`,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    await new Promise((resolve) => loopback.stdout?.once("data", resolve));
    const created = await pyro(
      "workspace",
      "create",
      "debian:12",
      "--network-policy",
      "egress+published-ports",
      "--mem-mib",
      "512",
      "--json",
    );
    expect(created.code).toBe(0);
    const id = created.json().workspace_id as string;
    let mcp: Client | null = null;
    let second: string | null = null;
    try {
      const status = (await pyro("workspace", "status", id, "--json")).json();
      expect(status).toMatchObject({ network_policy: "egress+published-ports", guest_ip: "10.0.2.15" });

      const probe = await pyro(
        "workspace",
        "exec",
        id,
        "--json",
        "--",
        "bash",
        "-c",
        `for t in 10.0.2.2/9099 10.0.2.3/9099 127.0.0.1/9099; do timeout 3 bash -c "exec 3<>/dev/tcp/$t && cat <&3" && echo "REACHED $t"; done; ${FETCH_LAB}`,
      );
      const probed = probe.json();
      expect(probed.stdout).not.toContain("REACHED");
      expect(probed.stdout).toContain("hello from the lab");
      loopback.stdin?.write("count\n");
      const count = await new Promise<string>((resolve) =>
        loopback.stdout?.once("data", (d: Buffer) => resolve(d.toString())),
      );
      expect(count.trim()).toBe("0");

      const hostPort = 18000 + Math.floor(Math.random() * 1000);
      const started = await pyro(
        "workspace",
        "service",
        "start",
        id,
        "web",
        "--publish",
        `${hostPort}:8080`,
        "--ready-http",
        "http://127.0.0.1:8080/",
        "--json",
        "--",
        HTTP_SERVER,
      );
      expect(started.code).toBe(0);
      expect(started.json()).toMatchObject({
        ready: true,
        published_ports: [
          { host_address: "127.0.0.1", host_port: hostPort, guest_port: 8080, service: "web" },
        ],
      });
      expect(httpGet(hostPort)).toBe("from the guest\n");
      const bound = listeners()
        .split("\n")
        .filter((line) => line.includes(`:${hostPort} `));
      expect(bound).toHaveLength(1);
      expect(bound[0]).toContain(`127.0.0.1:${hostPort}`);
      // A start that fails (the name is taken) leaves no port of its own behind.
      const again = await pyro(
        "workspace",
        "service",
        "start",
        id,
        "web",
        "--publish",
        `${hostPort + 1}:8080`,
        "--",
        "true",
      );
      expect(again.stderr).toContain("SERVICE_EXISTS");
      expect(listeners()).not.toContain(`:${hostPort + 1} `);
      const info = (await pyro("vm", "network-info", id, "--json")).json();
      expect(info).toMatchObject({
        policy: "egress+published-ports",
        guest_ip: "10.0.2.15",
        published_ports: [{ host_port: hostPort }],
      });
      expect((await pyro("vm", "network-info", id)).stdout).toContain(`127.0.0.1:${hostPort} -> 8080 (web)`);

      // A second workspace, over MCP, cannot take the same host port.
      mcp = await connectMcp("workspace-full", ns);
      const call = async (name: string, args: Record<string, unknown>) =>
        (await mcp?.callTool({ name, arguments: args })) as CallToolResult;
      const other = await call("workspace_create", {
        mem_mib: 512,
        network_policy: "egress+published-ports",
      });
      second = (other.structuredContent as { workspace_id: string }).workspace_id;
      const clash = await call("service_start", {
        workspace_id: second,
        service_name: "web",
        command: HTTP_SERVER,
        published_ports: [`${hostPort}:8080`],
      });
      expect(clash.isError).toBe(true);
      expect(clash.structuredContent).toMatchObject({ error: { code: "PORT_IN_USE" } });
      expect(JSON.stringify(clash.content)).toContain(String(hostPort));

      // Stopping the first service frees the port for the second workspace.
      expect((await pyro("workspace", "service", "stop", id, "web")).code).toBe(0);
      expect(listeners()).not.toContain(`:${hostPort} `);
      const taken = await call("service_start", {
        workspace_id: second,
        service_name: "web",
        command: HTTP_SERVER,
        published_ports: [`${hostPort}:8080`],
        readiness: { type: "http", url: "http://127.0.0.1:8080/" },
      });
      expect(taken.isError).toBeFalsy();
      expect(httpGet(hostPort)).toBe("from the guest\n");
      const viaMcp = await call("vm_network_info", { vm_id: second });
      expect(viaMcp.structuredContent).toMatchObject({
        published_ports: [{ host_port: hostPort, guest_port: 8080 }],
      });

      // Deleting the workspace frees its port too.
      expect((await call("workspace_delete", { workspace_id: second })).isError).toBeFalsy();
      second = null;
      expect(listeners()).not.toContain(`:${hostPort} `);
      expect(httpGet(hostPort)).toBe("REFUSED");
    } finally {
      if (second !== null) await runPyro(["workspace", "delete", second], {}, ns);
      await mcp?.close();
      await pyro("workspace", "delete", id);
      loopback.kill();
    }
    expect(processesMentioning(id)).toEqual([]);
  });

  it("refuses to publish without the published-ports policy, with a clear error", async () => {
    const created = await pyro(
      "workspace",
      "create",
      "debian:12",
      "--network-policy",
      "egress",
      "--mem-mib",
      "512",
      "--id-only",
    );
    const id = created.stdout.trim();
    try {
      const refused = await pyro(
        "workspace",
        "service",
        "start",
        id,
        "web",
        "--publish",
        "18999:8080",
        "--",
        "sleep",
        "60",
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("NETWORK_POLICY_DENIED");
      expect(refused.stderr).toContain("egress+published-ports");
      expect((await pyro("workspace", "service", "list", id, "--json")).json()).toMatchObject({ count: 0 });
    } finally {
      await pyro("workspace", "delete", id);
    }
  });

  it("doctor reports which policies this host can offer, and why not", async () => {
    const offered = (await pyro("doctor", "--json")).json();
    expect(offered.capabilities).toMatchObject({ guest_network: true });
    expect(offered.networking).toMatchObject({
      offered: true,
      policies: ["off", "egress", "egress+published-ports"],
      helper: expect.stringContaining("pyro-netstack"),
    });
    const missing = await runPyro(["doctor"], { PYRO_NETSTACK_BIN: "/nonexistent/pyro-netstack" }, ns);
    expect(missing.stdout).toMatch(/WARN networking: policy off only: pyro-netstack is not built/);
    expect(missing.stdout).toContain("fix: Install libslirp-dev");
    const refused = await runPyro(
      ["run", "debian:12", "--network", "--", "true"],
      { PYRO_NETSTACK_BIN: "/nonexistent/pyro-netstack" },
      ns,
    );
    expect(refused.code).toBe(69);
    expect(refused.stderr).toContain("NETWORK_UNAVAILABLE");
  });

  it("works the same through the SDK", () => {
    const output = execFileSync("ip", ["netns", "exec", lab.pyroNs, process.execPath, SDK_SCENARIO], {
      env: process.env,
    }).toString();
    const seen = JSON.parse(output) as Record<string, unknown>;
    const [body, kernel] = (seen.egress as string).trim().split("\n");
    expect(body).toBe("hello from the lab");
    expect(kernel).not.toBe(HOST_KERNEL);
    expect(seen.service).toMatchObject({
      ready: true,
      published_ports: [{ host_address: "127.0.0.1", guest_port: 8080 }],
    });
    expect(seen.through_port).toBe("sdk service\n");
    expect(seen.network).toMatchObject({
      policy: "egress+published-ports",
      network_enabled: true,
      dns: "10.0.2.3",
    });
    expect(seen.after_stop).toEqual([]);
    expect(seen.refused_after_stop).toBe(true);
  });
});
