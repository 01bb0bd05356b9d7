import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pyroWith } from "../helpers/lab-cli.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import {
  LAB_HTTP_PORT,
  LAB_NAME,
  LAB_PYRO_SIDE,
  LAB_SERVER,
  canCreateLab,
  createLab,
  type Lab,
} from "../fixtures/netns-lab.mjs";

// A root process in the guest writes its own Ethernet frames (test/fixtures/raw-frame.c, an
// AF_PACKET socket on eth0, addressed to the gateway's MAC), so its kernel's routing does not stand
// in the way. Every pyro process runs inside namespaces this file creates; refused packets never
// leave pyro-netstack's frame filter, and the only private range sent to with the filter open is
// one that the pyro side's namespace routes as unreachable.
const RAW_FRAME_SOURCE = fileURLToPath(new URL("../fixtures/raw-frame.c", import.meta.url));
const LISTENERS = fileURLToPath(new URL("../fixtures/counting-listeners.mjs", import.meta.url));
const HOST_KERNEL = execFileSync("uname", ["-r"]).toString().trim();
const TCP_PORT = 9099;
const UDP_PORT = 9098;
const UNREACHABLE_PRIVATE = "10.99.0.0/16"; // routed nowhere on the pyro side
const FAST_MS = 1000; // a refusal answers in milliseconds; a silent drop would take the 2 s timeout

const canBuildSender = (() => {
  try {
    execFileSync("musl-gcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

interface Reply {
  kind: "SYNACK" | "RST" | "ICMP" | "NONE" | "IPV6" | "TCP";
  detail: string;
  ms: number;
}

function parseReply(line: string): Reply {
  const parts = line.trim().split(" ");
  const kind = parts[0] as Reply["kind"];
  if (kind === "NONE") return { kind, detail: "", ms: Infinity };
  const ms = Number(parts[parts.length - 1]);
  return { kind, detail: parts.length === 3 ? (parts[1] as string) : "", ms };
}

describe.skipIf(!canCreateLab() || !canBuildSender)(
  "a guest attacking pyro-netstack's frame filter (skipped without root and musl-gcc)",
  () => {
    let home: ReturnType<typeof useTempPyroHome>;
    let lab: Lab;
    let ns: string[];
    let seed: string;
    let listeners: ChildProcess;
    let id: string;
    const pyro = (...args: string[]) => pyroWith(ns, args);
    // What the VM's supervisor logged and why it ended, for a failure message.
    const vmLog = (workspace: string): string =>
      ["supervisor.log", "exit.json"]
        .map((name) => {
          try {
            return readFileSync(join(sandboxDir(home.home, workspace), "vm", name), "utf8");
          } catch {
            return "";
          }
        })
        .join("\n");
    const guest = async (workspace: string, script: string): Promise<string> => {
      const result = await pyro("workspace", "exec", workspace, "--json", "--", "bash", "-c", script);
      expect(result.code, `${result.stdout}\n${result.stderr}\n${vmLog(workspace)}`).toBe(0);
      const outcome = result.json();
      return outcome.stdout as string;
    };
    // Sends one crafted frame per probe ("tcp 127.0.0.1 9099") in one exec; the replies, in order.
    const raw = async (workspace: string, probes: string[]): Promise<Reply[]> => {
      const out = await guest(workspace, probes.map((p) => `/workspace/raw-frame ${p}`).join("; "));
      const lines = out.trim().split("\n");
      expect(lines).toHaveLength(probes.length);
      return lines.map(parseReply);
    };
    const counts = async (): Promise<Record<string, { tcp: number; udp: number }>> => {
      const line = new Promise<string>((resolve) =>
        listeners.stdout?.once("data", (d: Buffer) => resolve(d.toString())),
      );
      listeners.stdin?.write("count\n");
      return JSON.parse(await line) as Record<string, { tcp: number; udp: number }>;
    };
    const helperOf = (workspace: string): { supervisor: number; helper: number | null } => {
      const record = JSON.parse(
        readFileSync(join(sandboxDir(home.home, workspace), "sandbox.json"), "utf8"),
      ) as { supervisor_pid: number };
      const helper = readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .find((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            return stat.includes("(pyro-netstack)") && Number(fields[1]) === record.supervisor_pid;
          } catch {
            return false;
          }
        });
      return { supervisor: record.supervisor_pid, helper: helper === undefined ? null : Number(helper) };
    };

    beforeAll(async () => {
      home = useTempPyroHome();
      lab = await createLab();
      ns = ["ip", "netns", "exec", lab.pyroNs];
      execFileSync("ip", ["-n", lab.pyroNs, "route", "add", "unreachable", UNREACHABLE_PRIVATE]);
      seed = mkdtempSync(join(tmpdir(), "pyro-raw-"));
      execFileSync("musl-gcc", ["-static", "-Os", "-o", join(seed, "raw-frame"), RAW_FRAME_SOURCE]);
      // The host's services a guest must not reach: its loopback, another 127/8 address, the pyro
      // side's own interface address and IPv6 loopback.
      listeners = spawn(
        "ip",
        [
          "netns",
          "exec",
          lab.pyroNs,
          process.execPath,
          LISTENERS,
          `127.0.0.1:${TCP_PORT}`,
          `127.0.0.1:${UDP_PORT}`,
          `127.1.2.3:${TCP_PORT}`,
          `${LAB_PYRO_SIDE}:${TCP_PORT}`,
          `[::1]:${UDP_PORT}`,
        ],
        { stdio: ["pipe", "pipe", "inherit"] },
      );
      await new Promise((resolve) => listeners.stdout?.once("data", resolve));
      const created = await pyro(
        "workspace",
        "create",
        "debian:12",
        "--network-policy",
        "egress",
        "--mem-mib",
        "512",
        "--seed-path",
        seed,
        "--id-only",
      );
      const made = /workspace_id=([0-9a-f]+)/.exec(created.stderr)?.[1] ?? "";
      expect(created.code, `${created.stderr}\n${vmLog(made)}`).toBe(0);
      id = created.stdout.trim();
      expect((await guest(id, "uname -r")).trim()).not.toBe(HOST_KERNEL); // it runs in the guest
    });

    afterAll(async () => {
      if (id) await pyro("workspace", "delete", id);
      listeners?.kill();
      lab?.close();
      rmSync(seed, { recursive: true, force: true });
      if (id) expect(processesMentioning(id)).toEqual([]);
      home.cleanup();
    });

    it("refuses crafted frames to 127.0.0.1, 127.1.2.3 and 0.0.0.0 at once; no host listener sees one", async () => {
      const targets = ["127.0.0.1", "127.1.2.3", "0.0.0.0"];
      const replies = await raw(id, [
        ...targets.map((t) => `tcp ${t} ${TCP_PORT}`),
        ...targets.map((t) => `udp ${t} ${UDP_PORT}`),
      ]);
      for (const [i, reply] of replies.entries()) {
        const probe = i < targets.length ? `tcp ${targets[i]}` : `udp ${targets[i - targets.length]}`;
        expect(reply.kind, probe).toBe(i < targets.length ? "RST" : "ICMP");
        if (reply.kind === "ICMP") expect(reply.detail, probe).toBe("3/13");
        expect(reply.ms, probe).toBeLessThan(FAST_MS);
      }
      const seen = await counts();
      for (const [listener, count] of Object.entries(seen)) {
        expect(count, listener).toEqual({ tcp: 0, udp: 0 });
      }
      // The helper counted them, in its VM's supervisor log.
      expect(vmLog(id)).toMatch(/pyro-netstack: refused \d+ frame\(s\) from the guest: loopback 127\/8/);
    });

    it("makes every refused address class fail fast, crafted frames and ordinary sockets alike", async () => {
      const classes = [
        "169.254.169.254", // cloud metadata (link-local)
        "169.254.1.1",
        "224.0.0.251", // multicast
        "239.255.255.250",
        "255.255.255.255", // broadcast
        "240.0.0.1", // reserved
        LAB_PYRO_SIDE, // an address of the host's own interface
        "10.1.2.3", // private ranges, refused by default
        "172.16.5.5",
        "192.168.1.1",
        "100.64.1.1",
        "10.0.2.1", // the rest of the virtual network
        "10.0.2.15",
      ];
      const replies = await raw(id, [
        ...classes.map((t) => `tcp ${t} 80`),
        ...classes.map((t) => `udp ${t} 80`),
        "tcp 10.0.2.2 22", // the gateway serves ping only
        "udp 10.0.2.3 80", // the DNS alias serves port 53 only
      ]);
      for (const [i, reply] of replies.entries()) {
        expect(["RST", "ICMP"], `probe ${i}`).toContain(reply.kind);
        expect(reply.ms, `probe ${i}`).toBeLessThan(FAST_MS);
      }
      // What an ordinary program sees: connect() fails at once with "Connection refused".
      const sockets = [
        "169.254.169.254/80",
        `${LAB_PYRO_SIDE}/${TCP_PORT}`,
        "10.1.2.3/80",
        "192.168.1.1/443",
        "172.16.0.1/22",
        "100.64.0.1/80",
        "10.0.2.2/22",
        "10.0.2.3/80",
      ];
      const out = await guest(
        id,
        `for t in ${sockets.join(" ")}; do s=$(date +%s%N); timeout 5 bash -c "exec 3<>/dev/tcp/$t" 2>/tmp/err; rc=$?; e=$(date +%s%N); echo "$t $rc $(( (e - s) / 1000000 )) $(tr '\\n' ' ' </tmp/err)"; done`,
      );
      const lines = out.trim().split("\n");
      expect(lines).toHaveLength(sockets.length);
      for (const line of lines) {
        const [target, rc, ms] = line.split(" ");
        expect(rc, line).toBe("1");
        expect(Number(ms), line).toBeLessThan(2000);
        expect(line, target).toContain("Connection refused");
      }
      expect((await counts())[`${LAB_PYRO_SIDE}:${TCP_PORT}`]).toEqual({ tcp: 0, udp: 0 });
    });

    it("drops IPv6 frames without a word; none reaches the host's ::1", async () => {
      const replies = await raw(id, [
        `ipv6 ::1 ${UDP_PORT}`,
        `ipv6 fe80::2 ${UDP_PORT}`,
        "ipv6 2001:db8::1 53",
      ]);
      for (const reply of replies) expect(reply.kind).toBe("NONE");
      expect((await counts())[`[::1]:${UDP_PORT}`]).toEqual({ tcp: 0, udp: 0 });
    });

    it("still carries allowed traffic after the attacks: the lab by name through NAT, crafted frames included", async () => {
      const out = await guest(
        id,
        `exec 3<>/dev/tcp/${LAB_NAME}/${LAB_HTTP_PORT} && printf 'GET /hello HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n1 <&3`,
      );
      expect(out.trim()).toBe("hello from the lab");
      // The sender's frames do reach libslirp when their destination is allowed: the lab answers.
      const [reply] = await raw(id, [`tcp ${LAB_SERVER} ${LAB_HTTP_PORT}`]);
      expect(reply?.kind).toBe("SYNACK");
    });

    it("--allow-private-egress lets private ranges through (and only them); the helper dies with its supervisor", async () => {
      const created = await pyro(
        "workspace",
        "create",
        "debian:12",
        "--network-policy",
        "egress",
        "--allow-private-egress",
        "--mem-mib",
        "512",
        "--seed-path",
        seed,
        "--json",
      );
      expect(created.code, created.stderr).toBe(0);
      const open = created.json().workspace_id as string;
      try {
        expect(created.json()).toMatchObject({ allow_private_egress: true });
        const info = (await pyro("vm", "network-info", open, "--json")).json();
        expect(info).toMatchObject({ policy: "egress", allow_private_egress: true });
        expect((await pyro("vm", "network-info", open)).stdout).toContain(
          "private ranges  reachable (--allow-private-egress)",
        );
        expect((await pyro("vm", "network-info", id, "--json")).json()).toMatchObject({
          allow_private_egress: false,
        });

        // 10.99.0.1 is unreachable on the pyro side: refused by the filter by default (its RST), but
        // with the option it reaches libslirp, whose connect() fails (an ICMP unreachable).
        const probe = `tcp 10.99.0.1 80`;
        const [closed] = await raw(id, [probe]);
        const [opened] = await raw(open, [probe]);
        expect(closed?.kind).toBe("RST");
        expect(opened?.kind).toBe("ICMP");
        expect(opened?.detail).not.toBe("3/13");
        const rest = await raw(open, [`tcp 127.0.0.1 ${TCP_PORT}`, `tcp ${LAB_PYRO_SIDE} ${TCP_PORT}`]);
        expect(rest.map((r) => r.kind)).toEqual(["RST", "RST"]); // host-local stays refused
        expect((await counts())[`127.0.0.1:${TCP_PORT}`]).toEqual({ tcp: 0, udp: 0 });

        // The supervisor dies by SIGKILL: its pyro-netstack follows within a second.
        const { supervisor, helper } = helperOf(open);
        expect(helper).not.toBeNull();
        const killedAt = Date.now();
        process.kill(supervisor, "SIGKILL");
        const gone = await waitFor(() => {
          try {
            process.kill(helper as number, 0);
            return readFileSync(`/proc/${helper}/stat`, "utf8").includes(") Z ");
          } catch {
            return true;
          }
        }, 3000);
        expect(gone).toBe(true);
        expect(Date.now() - killedAt).toBeLessThan(1000);
      } finally {
        await pyro("workspace", "delete", open);
        // What the supervisor owned and pyro did not reap (its QEMU) is this test's to end.
        for (const pid of processesMentioning(open)) process.kill(pid, "SIGKILL");
      }
    });
  },
);
