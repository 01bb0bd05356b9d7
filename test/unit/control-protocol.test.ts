import { describe, expect, it } from "vitest";
import { ERROR_CATALOG } from "../../src/errors/index.js";
import { ControlHandler } from "../../src/runtime/control.js";
import { decodeControl, encodeControl } from "../../src/runtime/control-codec.js";
import {
  ControlReplies,
  ControlReply,
  ControlRequest,
  REFUSAL_CODES,
  Refusal,
  type ControlOp,
  type ManagedInfo,
} from "../../src/runtime/control-protocol.js";

const info: ManagedInfo = {
  id: "sh-0123abcd",
  kind: "shell",
  name: "shell",
  state: "running",
  pid: 42,
  exit_code: null,
  signal: null,
  started_at: "2026-01-01T00:00:00.000Z",
  ended_at: null,
  output_end: 10,
  cwd: "/workspace",
  pty: { cols: 80, rows: 24 },
  error: null,
};
const port = { host_address: "127.0.0.1", host_port: 8080, guest_port: 80, service: null } as const;

/** For every request kind: frames its schema must take, and frames it must refuse. */
const REQUESTS: Record<ControlOp, { valid: unknown[]; invalid: unknown[] }> = {
  start: {
    valid: [
      {
        op: "start",
        kind: "shell",
        name: "shell",
        request: { args: ["/bin/bash", "-i"], pty: { cols: 80, rows: 24 } },
      },
      { op: "start", kind: "service", name: "web", request: { shell: "sleep 1" }, mask_dir: "/tmp/s" },
    ],
    invalid: [
      { op: "start", kind: "daemon", name: "x", request: {} },
      { op: "start", kind: "shell", name: "", request: {} },
      { op: "start", kind: "shell", name: "x", request: { args: "ls" } },
      { op: "start", kind: "shell", name: "x", request: { pty: { cols: 0, rows: 24 } } },
      { op: "start", kind: "shell", name: "x" },
    ],
  },
  write: {
    valid: [{ op: "write", kind: "shell", id: "sh-1" }],
    invalid: [
      { op: "write", kind: "service", id: "web" },
      { op: "write", kind: "shell" },
      { op: "write", kind: "shell", id: 7 },
    ],
  },
  read: {
    valid: [
      { op: "read", kind: "shell", id: "sh-1", cursor: 0, max_bytes: 65536 },
      {
        op: "read",
        kind: "service",
        id: "web",
        cursor: 5,
        max_bytes: 1,
        wait_for_idle_ms: 500,
        max_wait_ms: 30_000,
      },
    ],
    invalid: [
      { op: "read", kind: "shell", id: "sh-1", cursor: -1, max_bytes: 1 },
      { op: "read", kind: "shell", id: "sh-1", cursor: 0.5, max_bytes: 1 },
      { op: "read", kind: "shell", id: "sh-1", cursor: 0, max_bytes: "1" },
      { op: "read", kind: "shell", id: "sh-1", cursor: 2 ** 60, max_bytes: 1 },
      { op: "read", kind: "shell", id: "sh-1", cursor: 0, max_bytes: 1, wait_for_idle_ms: -5 },
    ],
  },
  signal: {
    valid: [{ op: "signal", kind: "service", id: "web", signo: 15 }],
    invalid: [
      { op: "signal", kind: "service", id: "web", signo: 0 },
      { op: "signal", kind: "service", id: "web", signo: 65 },
      { op: "signal", kind: "service", id: "web" },
    ],
  },
  resize: {
    valid: [{ op: "resize", kind: "shell", id: "sh-1", cols: 120, rows: 30 }],
    invalid: [
      { op: "resize", kind: "shell", id: "sh-1", cols: 70000, rows: 30 },
      { op: "resize", kind: "service", id: "web", cols: 120, rows: 30 },
    ],
  },
  wait: {
    valid: [{ op: "wait", kind: "service", id: "web", timeout_ms: 0 }],
    invalid: [
      { op: "wait", kind: "service", id: "web", timeout_ms: null },
      { op: "wait", kind: "service", id: "web", timeout_ms: 1e12 },
    ],
  },
  list: { valid: [{ op: "list" }], invalid: [{ op: "List" }] },
  remove: {
    valid: [{ op: "remove", kind: "shell", id: "sh-1" }],
    invalid: [{ op: "remove", kind: "shell", id: "x".repeat(257) }],
  },
  publish: {
    valid: [
      { op: "publish", host_port: 0, guest_port: 80 },
      { op: "publish", host_port: 8080, guest_port: 65535, owner: "web" },
    ],
    invalid: [
      { op: "publish", host_port: 0, guest_port: 0 },
      { op: "publish", host_port: 65536, guest_port: 80 },
      { op: "publish", host_port: "80", guest_port: 80 },
      { op: "publish", host_port: 80, guest_port: 80, owner: 5 },
    ],
  },
  unpublish: {
    valid: [{ op: "unpublish", host_port: 8080 }],
    invalid: [{ op: "unpublish", host_port: 0 }, { op: "unpublish" }],
  },
  ports: { valid: [{ op: "ports" }], invalid: [{ op: "port" }] },
  snapshot_disk: {
    valid: [{ op: "snapshot_disk", name: "pyro.before-upgrade" }],
    invalid: [
      { op: "snapshot_disk" },
      { op: "snapshot_disk", name: "" },
      { op: "snapshot_disk", name: "-x" },
      { op: "snapshot_disk", name: "a b" },
    ],
  },
  delete_disk_snapshot: {
    valid: [{ op: "delete_disk_snapshot", name: "pyro.v1" }],
    invalid: [
      { op: "delete_disk_snapshot", name: "../x" },
      { op: "delete_disk_snapshot", name: 1 },
    ],
  },
  pause: { valid: [{ op: "pause" }], invalid: [{ op: "paus" }] },
  fork: {
    valid: [{ op: "fork", dir: "/s/x/fork", root_disk: "/s/x/vm/disk.qcow2", workspace_disk: null }],
    invalid: [
      { op: "fork", dir: "/s/x/fork" },
      { op: "fork", dir: "relative/path", root_disk: null, workspace_disk: null },
      { op: "fork", dir: `/${"a".repeat(5000)}`, root_disk: null, workspace_disk: null },
    ],
  },
  set_ttl: {
    valid: [
      { op: "set_ttl", ttl_seconds: 1 },
      { op: "set_ttl", ttl_seconds: 604800 },
    ],
    invalid: [
      { op: "set_ttl", ttl_seconds: 0 },
      { op: "set_ttl", ttl_seconds: 604801 },
      { op: "set_ttl", ttl_seconds: 1.5 },
      { op: "set_ttl" },
    ],
  },
  deadline: { valid: [{ op: "deadline" }], invalid: [{ op: "deadlines" }] },
};

/** For every reply kind: replies its schema must take, and replies it must refuse. */
const REPLIES: Record<ControlOp, { valid: unknown[]; invalid: unknown[] }> = {
  start: {
    valid: [{ ok: true, op: "start", info }],
    invalid: [
      { ok: true, op: "start" },
      { ok: true, op: "start", info: { ...info, state: "zombie" } },
    ],
  },
  write: {
    valid: [{ ok: true, op: "write" }],
    invalid: [
      { ok: true, op: "read" },
      { ok: "yes", op: "write" },
    ],
  },
  read: {
    valid: [{ ok: true, op: "read", from: 0, next: 10, dropped: 0, end: 10, info }],
    invalid: [
      { ok: true, op: "read", from: 0, next: 10, dropped: 0, info },
      { ok: true, op: "read", from: -1, next: 10, dropped: 0, end: 10, info },
    ],
  },
  signal: { valid: [{ ok: true, op: "signal" }], invalid: [{ ok: true }] },
  resize: { valid: [{ ok: true, op: "resize" }], invalid: [{ op: "resize" }] },
  wait: {
    valid: [{ ok: true, op: "wait", info: { ...info, state: "exited", exit_code: 0, ended_at: "x" } }],
    invalid: [{ ok: true, op: "wait", info: { ...info, pid: "42" } }],
  },
  list: {
    valid: [
      { ok: true, op: "list", processes: [] },
      { ok: true, op: "list", processes: [info] },
    ],
    invalid: [{ ok: true, op: "list", processes: info }],
  },
  remove: { valid: [{ ok: true, op: "remove", info }], invalid: [{ ok: true, op: "remove", info: null }] },
  publish: {
    valid: [{ ok: true, op: "publish", port }],
    invalid: [{ ok: true, op: "publish", port: { ...port, host_address: "0.0.0.0" } }],
  },
  unpublish: {
    valid: [{ ok: true, op: "unpublish", port: { ...port, service: "web" } }],
    invalid: [{ ok: true, op: "unpublish", port: { ...port, host_port: 0 } }],
  },
  ports: {
    valid: [{ ok: true, op: "ports", ports: [port] }],
    invalid: [{ ok: true, op: "ports", ports: [{ ...port, guest_port: 70000 }] }],
  },
  snapshot_disk: {
    valid: [{ ok: true, op: "snapshot_disk" }],
    invalid: [{ ok: false, op: "snapshot_disk" }],
  },
  delete_disk_snapshot: {
    valid: [{ ok: true, op: "delete_disk_snapshot" }],
    invalid: [{ ok: true, op: "snapshot_disk" }],
  },
  pause: {
    valid: [{ ok: true, op: "pause", save_ms: 12 }],
    invalid: [
      { ok: true, op: "pause" },
      { ok: true, op: "pause", save_ms: -1 },
    ],
  },
  fork: {
    valid: [{ ok: true, op: "fork", save_ms: 40 }],
    invalid: [{ ok: true, op: "fork", save_ms: "40" }],
  },
  set_ttl: {
    valid: [{ ok: true, op: "set_ttl", expires_at_ms: 1_800_000_000_000, idle_ttl_ms: 60_000 }],
    invalid: [{ ok: true, op: "set_ttl", expires_at_ms: -1, idle_ttl_ms: null }],
  },
  deadline: {
    valid: [{ ok: true, op: "deadline", expires_at_ms: 1_800_000_000_000, idle_ttl_ms: null }],
    invalid: [{ ok: true, op: "deadline", expires_at_ms: 1 }],
  },
};

describe("control requests", () => {
  for (const [op, { valid, invalid }] of Object.entries(REQUESTS)) {
    it(`${op}: takes well-formed requests and refuses malformed ones`, () => {
      for (const request of valid) expect(ControlRequest.safeParse(request).success).toBe(true);
      for (const request of invalid) expect(ControlRequest.safeParse(request).success).toBe(false);
    });
  }

  it("refuses anything that is not a request of a known kind", () => {
    for (const request of [null, 7, "list", [], {}, { op: "exec" }, { op: "__proto__" }, [{ op: "list" }]])
      expect(ControlRequest.safeParse(request).success).toBe(false);
  });
});

describe("control replies", () => {
  for (const [op, { valid, invalid }] of Object.entries(REPLIES)) {
    it(`${op}: its schema takes its own replies only`, () => {
      const schema = ControlReplies[op as ControlOp];
      for (const reply of valid) {
        expect(schema.safeParse(reply).success).toBe(true);
        expect(ControlReply.safeParse(reply).success).toBe(true);
      }
      for (const reply of invalid) expect(schema.safeParse(reply).success).toBe(false);
      // A reply of another kind is not this kind's reply.
      const other = op === "write" ? { ok: true, op: "signal" } : { ok: true, op: "write" };
      expect(schema.safeParse(other).success).toBe(false);
    });
  }

  it("carries refusal codes of the error catalog, and no others", () => {
    for (const code of REFUSAL_CODES) {
      expect(code in ERROR_CATALOG).toBe(true);
      expect(Refusal.safeParse({ ok: false, code, message: "no" }).success).toBe(true);
    }
    for (const code of ["NOT_FOUND", "BUSY", "ENDED", "shell_not_found", ""])
      expect(Refusal.safeParse({ ok: false, code, message: "no" }).success).toBe(false);
    expect(Refusal.safeParse({ ok: false, code: "INTERNAL" }).success).toBe(false);
    expect(ControlReply.safeParse({ ok: false, code: "BUSY", message: "no" }).success).toBe(false);
  });
});

describe("the supervisor's control handler", () => {
  // No VM behind it: what it answers from its own state, without a guest.
  const handler = new ControlHandler(() => null);
  const ask = async (header: unknown, data?: Buffer) =>
    ControlReply.parse(decodeControl(await handler.handle(encodeControl(header, data))).header);
  const raw = async (body: Buffer) => ControlReply.parse(decodeControl(await handler.handle(body)).header);

  it("answers each request with the reply of its kind or a catalog refusal", async () => {
    expect(await ask({ op: "list" })).toEqual({ ok: true, op: "list", processes: [] });
    expect(await ask({ op: "ports" })).toEqual({ ok: true, op: "ports", ports: [] });
    expect(await ask({ op: "start", kind: "shell", name: "shell", request: { args: ["sh"] } })).toMatchObject(
      {
        ok: false,
        code: "VM_NOT_RUNNING",
      },
    );
    expect(await ask({ op: "publish", host_port: 0, guest_port: 80 })).toMatchObject({
      ok: false,
      code: "VM_NOT_RUNNING",
    });
    expect(await ask({ op: "unpublish", host_port: 8080 })).toMatchObject({
      ok: false,
      code: "INVALID_ARGUMENT",
    });
    // A VM without a workspace disk refuses disk snapshots by name.
    expect(await ask({ op: "snapshot_disk", name: "pyro.one" })).toMatchObject({
      ok: false,
      code: "NO_DISK",
    });
    expect(await ask({ op: "delete_disk_snapshot", name: "pyro.one" })).toMatchObject({
      ok: false,
      code: "NO_DISK",
    });
  });

  it("names a missing process by the kind the request asked for", async () => {
    const read = { op: "read", id: "ghost", cursor: 0, max_bytes: 10 };
    expect(await ask({ ...read, kind: "shell" })).toMatchObject({ ok: false, code: "SHELL_NOT_FOUND" });
    expect(await ask({ ...read, kind: "service" })).toMatchObject({ ok: false, code: "SERVICE_NOT_FOUND" });
    expect(await ask({ op: "write", kind: "shell", id: "sh-1" }, Buffer.from("ls\n"))).toMatchObject({
      code: "SHELL_NOT_FOUND",
    });
    expect(await ask({ op: "wait", kind: "service", id: "web", timeout_ms: 0 })).toMatchObject({
      code: "SERVICE_NOT_FOUND",
    });
  });

  it("refuses malformed requests with INVALID_ARGUMENT and says what was wrong", async () => {
    const malformed = [
      { op: "list!" },
      { op: "read", kind: "shell", id: "sh-1", cursor: "0", max_bytes: 1 },
      { op: "signal", kind: "shell", id: "sh-1", signo: 1e9 },
      [1, 2, 3],
      "list",
      null,
    ];
    for (const header of malformed) {
      const reply = await ask(header);
      expect(reply).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
      expect((reply as Refusal).message).toMatch(/^malformed control request: /);
    }
    const length = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const bodies = [
      Buffer.alloc(0),
      Buffer.from([0, 0]),
      Buffer.concat([length(1000), Buffer.from("{}")]),
      Buffer.concat([length(5), Buffer.from("{op:1")]),
      Buffer.concat([length(4), Buffer.from([0xff, 0xfe, 0xfd, 0xfc])]),
      Buffer.concat([length(60_000), Buffer.from("[".repeat(30_000) + "]".repeat(30_000))]),
    ];
    for (const body of bodies) expect(await raw(body)).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    // And it still answers well-formed requests.
    expect(await ask({ op: "list" })).toMatchObject({ ok: true, op: "list" });
  });
});
