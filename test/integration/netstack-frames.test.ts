import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { netstackBinary } from "../../src/machine/network/netstack.js";
import { socketPair } from "../../src/platform/socket-pair.js";

// pyro-netstack driven the way QEMU drives it (length-prefixed Ethernet frames on an inherited
// socket), with hand-made frames. Only frames the filter refuses (and ARP, which libslirp answers
// itself) are sent, so nothing here can leave the machine.
const helper = netstackBinary();
const GUEST_MAC = Buffer.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
const GATEWAY_MAC = Buffer.from([0x52, 0x55, 10, 0, 2, 2]);
const ip4 = (text: string): Buffer => Buffer.from(text.split(".").map(Number));

function checksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2) sum += (bytes[bytes.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(type: number, payload: Buffer, to = GATEWAY_MAC): Buffer {
  const header = Buffer.alloc(14);
  to.copy(header, 0);
  GUEST_MAC.copy(header, 6);
  header.writeUInt16BE(type, 12);
  return Buffer.concat([header, payload]);
}

function tcpSyn(dst: string, port: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 64;
  ip[9] = 6;
  ip4("10.0.2.15").copy(ip, 12);
  ip4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(port, 2);
  tcp.writeUInt32BE(1000, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02;
  return ethernet(0x0800, Buffer.concat([ip, tcp]));
}

function arpRequest(target: string): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0);
  arp.writeUInt16BE(0x0800, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6);
  GUEST_MAC.copy(arp, 8);
  ip4("10.0.2.15").copy(arp, 14);
  ip4(target).copy(arp, 24);
  return ethernet(0x0806, arp, Buffer.alloc(6, 0xff));
}

const framed = (frame: Buffer): Buffer => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(frame.length);
  return Buffer.concat([length, frame]);
};

describe.skipIf(helper === null)("pyro-netstack's frame filter on the wire", () => {
  const dir = mkdtempSync(join(tmpdir(), "pyro-frames-"));
  let child: ChildProcess | null = null;
  let vm: Socket | null = null;
  afterEach(() => {
    vm?.destroy();
    child?.kill("SIGKILL");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(): Promise<{ frames: Buffer[]; stderr: () => string }> {
    const [helperEnd, vmEnd] = await socketPair(dir);
    child = spawn(helper as string, ["--fd", "3", "--mtu", "1500"], {
      stdio: ["ignore", "ignore", "pipe", helperEnd],
    });
    helperEnd.destroy();
    vm = vmEnd;
    vm.resume();
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const frames: Buffer[] = [];
    let pending = Buffer.alloc(0);
    vm.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        frames.push(pending.subarray(4, 4 + pending.readUInt32BE(0)));
        pending = pending.subarray(4 + pending.readUInt32BE(0));
      }
    });
    return { frames, stderr: () => stderr };
  }

  it("answers a SYN to the host's loopback with a RST, counts it on stderr, and still serves ARP", async () => {
    const { frames, stderr } = await start();
    vm?.write(framed(arpRequest("10.0.2.2")));
    vm?.write(framed(tcpSyn("127.0.0.1", 9)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const arp = frames.find((f) => f.readUInt16BE(12) === 0x0806);
    expect(arp?.subarray(0, 6)).toEqual(GUEST_MAC); // libslirp answered: frames do reach it
    const rst = frames.find((f) => f.readUInt16BE(12) === 0x0800);
    expect(rst).toBeDefined();
    expect([...(rst as Buffer).subarray(26, 30)]).toEqual([127, 0, 0, 1]); // from where it was sent
    expect((rst as Buffer)[14 + 20 + 13]).toBe(0x14); // RST|ACK
    expect(stderr()).toContain("refused 1 frame(s) from the guest: loopback 127/8 (1 in all)");
  });

  it("reports a flood of refusals in a line per class, not a line per frame", async () => {
    const { frames, stderr } = await start();
    const flood = Buffer.concat(
      Array.from({ length: 2000 }, (_, i) => framed(tcpSyn(i % 2 ? "169.254.169.254" : "127.0.0.2", 80))),
    );
    vm?.write(flood);
    vm?.write(framed(ethernet(0x86dd, Buffer.alloc(60))));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(frames.filter((f) => f.readUInt16BE(12) === 0x0800)).toHaveLength(2000);
    expect(frames.some((f) => f.readUInt16BE(12) === 0x86dd)).toBe(false); // IPv6: no answer
    const lines = stderr().trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(stderr()).toContain("loopback 127/8");
    expect(stderr()).toContain("link-local 169.254/16");
    expect(stderr()).toContain("not IPv4 or ARP");
  });
});
