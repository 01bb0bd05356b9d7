import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { parseSandboxRecord, SANDBOX_RECORD_SCHEMA, type SandboxRecord } from "../../src/sandbox/record.js";

const ID = "0123456789ab";
const PATH = `/home/sandboxes/${ID}/sandbox.json`;

const record: SandboxRecord = {
  schema: SANDBOX_RECORD_SCHEMA,
  id: ID,
  environment: "debian:12",
  backend: "qemu",
  accel: "tcg",
  execution_mode: "guest_serial",
  vcpu_count: 1,
  mem_mib: 512,
  ttl_seconds: 600,
  network_policy: "off",
  allow_private_egress: false,
  allow_host_compat: false,
  network_plan: null,
  ephemeral: false,
  owner_pid: null,
  state: "created",
  created_at: "2026-01-01T00:00:00.000Z",
  started_at: null,
  expires_at: "2026-01-01T00:10:00.000Z",
  boot: null,
  image: null,
  template: null,
  template_skipped: null,
  machine_id: "0123456789abcdef0123456789abcdef",
  start: null,
  supervisor_pid: null,
  vmm_pid: null,
  guest: null,
  last_error: null,
  workspace: {
    name: "w",
    labels: { a: "b" },
    last_activity_at: "2026-01-01T00:00:00.000Z",
    reset_count: 0,
    command_count: 3,
    seed: { mode: "empty", source: null, entry_count: 0, bytes: 0 },
  },
};

function failure(text: string): PyroError {
  try {
    parseSandboxRecord(text, PATH, ID);
  } catch (error) {
    if (error instanceof PyroError) return error;
    throw error;
  }
  throw new Error("parsed");
}

describe("parseSandboxRecord", () => {
  it("reads back what pyro writes, workspace facet and plain VM alike", () => {
    expect(parseSandboxRecord(JSON.stringify(record), PATH, ID)).toEqual(record);
    const plain = { ...record, workspace: null };
    expect(parseSandboxRecord(JSON.stringify(plain), PATH, ID)).toEqual(plain);
    const imaged: SandboxRecord = {
      ...record,
      image: {
        env: ["PATH=/bin", "A=b=c"],
        working_dir: "/srv",
        user: { spec: "app", uid: 1000, gid: 1000 },
      },
    };
    expect(parseSandboxRecord(JSON.stringify(imaged), PATH, ID)).toEqual(imaged);
  });

  it("reads a record written before sandboxes kept an image config as one without", () => {
    const { image: _dropped, ...older } = record;
    expect(parseSandboxRecord(JSON.stringify(older), PATH, ID)).toEqual({ ...record, image: null });
  });

  it.each([
    ["a torn write", JSON.stringify(record).slice(0, 40), /cannot parse .*sandbox\.json: it is not JSON/],
    ["an empty file", "", /cannot parse/],
    ["a JSON scalar", "42", /is not a sandbox record of schema 2/],
    ["null", "null", /is not a sandbox record of schema 2/],
    ["a missing field", JSON.stringify({ ...record, state: undefined }), /state:/],
    ["a wrong type", JSON.stringify({ ...record, vcpu_count: "2" }), /vcpu_count:/],
    ["an unknown state", JSON.stringify({ ...record, state: "dancing" }), /state:/],
    ["a damaged facet", JSON.stringify({ ...record, workspace: { name: 1 } }), /workspace\./],
    ["an older schema", JSON.stringify({ ...record, schema: 1 }), /schema:/],
    [
      "another sandbox's record",
      JSON.stringify({ ...record, id: "ba9876543210" }),
      /holds the record of ba9876543210/,
    ],
  ])("refuses %s with STATE_CORRUPT naming the file", (_case, text, message) => {
    const error = failure(text);
    expect(error.code).toBe("STATE_CORRUPT");
    expect(error.message).toContain(PATH);
    expect(error.message).toMatch(message);
  });

  it("says a record from a newer pyro is newer, with what to do", () => {
    const error = failure(JSON.stringify({ ...record, schema: SANDBOX_RECORD_SCHEMA + 1, shape: "new" }));
    expect(error.code).toBe("STATE_CORRUPT");
    expect(error.message).toMatch(/written by a newer pyro \(record schema 3; this one reads schema 2\)/);
    expect(error.hint).toMatch(/Upgrade pyro/);
  });

  it("keeps the message bounded when everything is wrong", () => {
    const junk = Object.fromEntries(Object.keys(record).map((key) => [key, { nested: "x".repeat(10) }]));
    expect(failure(JSON.stringify(junk)).message.length).toBeLessThan(1_000);
  });
});
