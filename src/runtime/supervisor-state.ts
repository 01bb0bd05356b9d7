import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { z } from "zod";
import { PyroError } from "../errors/index.js";
import { writeFileAtomic } from "../platform/atomic-file.js";
import { ManagedInfo, PublishedPort, describeIssues } from "./control-protocol.js";

/**
 * What a supervisor hands the next one across a pause: its shells and services (ids, guest
 * streams, output rings, exit info), published ports and where guest stream ids continue. The
 * guest keeps the processes themselves; this is the host's half of them.
 */

export const MAX_SAVED_PROCESSES = 64;
export const MAX_SAVED_OUTPUT = 1024 * 1024;
/** Held-back bytes of a secret masker: less than the longest value (values are at most 64 KiB). */
export const MAX_MASK_PENDING = 1024 * 1024;
const MAX_SAVED_PORTS = 1024;
const MAX_ORPHANS = 65536;
const MAX_HEADER = 4 * 1024 * 1024;
const MAGIC = Buffer.from("PYROSUP1");
/** magic, u32 header length, JSON header, then each process's output and mask_pending bytes. */
const PREAMBLE = MAGIC.length + 4;
export const MAX_STATE_FILE =
  PREAMBLE + MAX_HEADER + MAX_SAVED_PROCESSES * (MAX_SAVED_OUTPUT + MAX_MASK_PENDING);

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const StreamId = z.number().int().min(1).max(0xffffffff);
const bytes = (max: number) =>
  z.instanceof(Buffer).refine((buffer) => buffer.length <= max, `at most ${max} bytes`);

const ProcessFields = {
  info: ManagedInfo,
  /** Its guest stream while it runs; null once it ended. */
  stream: StreamId.nullable(),
  /** The secret store whose values are masked in its output. */
  mask_dir: z.string().max(4096).nullable(),
  last_output_at: z.number(),
  /** Absolute offset of the first kept output byte; the kept bytes end at info.output_end. */
  output_start: Count,
};

export const SavedProcess = z
  .object({ ...ProcessFields, output: bytes(MAX_SAVED_OUTPUT), mask_pending: bytes(MAX_MASK_PENDING) })
  .refine((p) => p.output_start + p.output.length === p.info.output_end, "output does not end at output_end")
  .refine((p) => (p.stream === null) === (p.info.state === "exited"), "a running process needs a stream");
export type SavedProcess = z.infer<typeof SavedProcess>;

export const SupervisorState = z
  .object({
    version: z.literal(1),
    saved_at: z.string().max(64),
    /** Where the router's stream id allocation continues. */
    next_stream: z.number().int().min(0).max(0xffffffff),
    processes: z.array(SavedProcess).max(MAX_SAVED_PROCESSES),
    ports: z.array(PublishedPort).max(MAX_SAVED_PORTS),
    /** Guest streams open for clients, file operations or port connections: they end after the pause. */
    orphan_streams: z.array(StreamId).max(MAX_ORPHANS),
  })
  .refine((state) => {
    const streams = [...state.orphan_streams, ...state.processes.flatMap((p) => p.stream ?? [])];
    return new Set(streams).size === streams.length;
  }, "a guest stream is named twice")
  .refine(
    (state) => new Set(state.processes.map((p) => p.info.id)).size === state.processes.length,
    "an id is named twice",
  );
export type SupervisorState = z.infer<typeof SupervisorState>;

/** The header as stored: the byte sections are given by their lengths. */
const StoredState = z.object({
  version: z.literal(1),
  saved_at: z.string(),
  next_stream: z.number(),
  processes: z
    .array(z.object({ ...ProcessFields, output: Count, mask_pending: Count }))
    .max(MAX_SAVED_PROCESSES),
  ports: z.array(z.unknown()),
  orphan_streams: z.array(z.unknown()),
});

/** Writes `state` to `path` (owner-only, atomically): a JSON header, then the raw byte sections. */
export function writeSupervisorState(path: string, state: SupervisorState): void {
  const checked = SupervisorState.parse(state);
  const stored: z.infer<typeof StoredState> = {
    ...checked,
    processes: checked.processes.map((p) => ({
      ...p,
      output: p.output.length,
      mask_pending: p.mask_pending.length,
    })),
  };
  const header = Buffer.from(JSON.stringify(stored));
  if (header.length > MAX_HEADER)
    throw new PyroError("LIMIT_EXCEEDED", `the supervisor state header is over ${MAX_HEADER} bytes`);
  const preamble = Buffer.alloc(PREAMBLE);
  MAGIC.copy(preamble);
  preamble.writeUInt32BE(header.length, MAGIC.length);
  const sections = checked.processes.flatMap((p) => [p.output, p.mask_pending]);
  writeFileAtomic(path, [preamble, header, ...sections], 0o600);
}

/** Reads a state file written by writeSupervisorState; anything else (or anything larger) is refused. */
export function readSupervisorState(path: string): SupervisorState {
  const corrupt = (why: string): PyroError =>
    new PyroError("STATE_CORRUPT", `${path} is not a supervisor state file: ${why}`);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new PyroError(
      "STATE_CORRUPT",
      `cannot open the supervisor state ${path}: ${(error as Error).message}`,
    );
  }
  let file: Buffer;
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_STATE_FILE) throw corrupt(`${size} bytes, more than the ${MAX_STATE_FILE} allowed`);
    file = Buffer.alloc(size);
    for (let at = 0; at < size;) {
      const read = readSync(fd, file, at, size - at, at);
      if (read === 0) throw corrupt("it shrank while being read");
      at += read;
    }
  } finally {
    closeSync(fd);
  }
  if (file.length < PREAMBLE || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt("bad magic");
  const headerLength = file.readUInt32BE(MAGIC.length);
  if (headerLength > MAX_HEADER || PREAMBLE + headerLength > file.length) throw corrupt("bad header length");
  let json: unknown;
  try {
    json = JSON.parse(file.subarray(PREAMBLE, PREAMBLE + headerLength).toString("utf8"));
  } catch {
    throw corrupt("the header is not JSON");
  }
  const stored = StoredState.safeParse(json);
  if (!stored.success) throw corrupt(describeIssues(stored.error));
  let at = PREAMBLE + headerLength;
  const take = (length: number): Buffer => {
    if (at + length > file.length) throw corrupt("a byte section runs past the end");
    const section = file.subarray(at, at + length);
    at += length;
    return section;
  };
  const processes = stored.data.processes.map((p) => ({
    ...p,
    output: take(p.output),
    mask_pending: take(p.mask_pending),
  }));
  if (at !== file.length) throw corrupt(`${file.length - at} bytes after the last section`);
  const state = SupervisorState.safeParse({ ...stored.data, processes });
  if (!state.success) throw corrupt(describeIssues(state.error));
  return state.data;
}
