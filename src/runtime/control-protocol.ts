import { z } from "zod";
import type { ExecRequest } from "../agent-protocol/messages.js";
import type { ErrorCode } from "../errors/index.js";

/**
 * The supervisor's control channel: what a local client may ask a VM's supervisor (shells,
 * services, published ports) and what it answers. Both sides parse what they receive with these
 * schemas; nothing received is trusted by its type alone.
 */

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Millis = z
  .number()
  .int()
  .min(0)
  .max(24 * 60 * 60 * 1000);
const Id = z.string().min(1).max(256);
const u16 = z.number().int().min(1).max(65535);
/** A uid or gid the agent accepts: (uid_t)-1 means "unchanged" to the kernel, never a user. */
const UserId = z.number().int().min(0).max(0xfffffffe);

export const ProcessKind = z.enum(["shell", "service"]);
export type ProcessKind = z.infer<typeof ProcessKind>;

const ExecRequestSchema = z.object({
  args: z.array(z.string()).optional(),
  shell: z.string().optional(),
  env: z.array(z.string()).optional(),
  cwd: z.string().optional(),
  timeoutMs: z.number().int().min(0).max(0xffffffff).optional(),
  stdin: z.boolean().optional(),
  pty: z.object({ cols: u16, rows: u16 }).optional(),
  user: z.object({ uid: UserId, gid: UserId }).optional(),
}) satisfies z.ZodType<ExecRequest>;

/** A shell or service as the supervisor reports it. */
export const ManagedInfo = z.object({
  id: z.string(),
  kind: ProcessKind,
  name: z.string(),
  state: z.enum(["starting", "running", "exited"]),
  pid: z.number().int().nullable(),
  exit_code: z.number().int().nullable(),
  signal: z.number().int().nullable(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  output_end: Count,
  cwd: z.string(),
  pty: z.object({ cols: z.number().int(), rows: z.number().int() }).nullable(),
  error: z.string().nullable(),
});
export type ManagedInfo = z.infer<typeof ManagedInfo>;

/** Published ports listen on the host's loopback only, never on other interfaces. */
export const HOST_ADDRESS = "127.0.0.1";

export const PublishedPort = z.object({
  host_address: z.literal(HOST_ADDRESS),
  host_port: z.number().int().min(1).max(65535),
  guest_port: z.number().int().min(1).max(65535),
  /** The caller's label for who published it (a service name), or null. */
  service: z.string().nullable(),
});
export type PublishedPort = z.infer<typeof PublishedPort>;

// ---- requests: one schema per kind, told apart by `op` ----

/** Which shell or service a request is about; `kind` also names the refusal (SHELL_… or SERVICE_…). */
const Target = { kind: ProcessKind, id: Id };
/** Input and terminal size exist only for shells. */
const ShellTarget = { kind: z.literal("shell"), id: Id };

export const StartRequest = z.object({
  op: z.literal("start"),
  kind: ProcessKind,
  name: Id,
  request: ExecRequestSchema,
  /** A secret store folder: its values are masked in the output before it is kept. */
  mask_dir: z.string().max(4096).optional(),
});
/** Input for a shell; the bytes follow the header. */
export const WriteRequest = z.object({ op: z.literal("write"), ...ShellTarget });
/**
 * Output from a cursor. With wait_for_idle_ms, first waits until the process has been quiet that
 * long, or has exited, or max_wait_ms passed — so one read returns one complete answer.
 */
export const ReadRequest = z.object({
  op: z.literal("read"),
  ...Target,
  cursor: Count,
  max_bytes: Count,
  wait_for_idle_ms: Millis.optional(),
  max_wait_ms: Millis.optional(),
});
export const SignalRequest = z.object({
  op: z.literal("signal"),
  ...Target,
  signo: z.number().int().min(1).max(64),
});
export const ResizeRequest = z.object({ op: z.literal("resize"), ...ShellTarget, cols: u16, rows: u16 });
/** Waits up to timeout_ms for the process to exit (0: its state now). */
export const WaitRequest = z.object({ op: z.literal("wait"), ...Target, timeout_ms: Millis });
export const ListRequest = z.object({ op: z.literal("list") });
/** Kills the process (if it still runs) and forgets it. */
export const RemoveRequest = z.object({ op: z.literal("remove"), ...Target });
/** host 127.0.0.1:host_port (0 = any free port) relayed to guest_port; `owner` is reported back as `service`. */
export const PublishRequest = z.object({
  op: z.literal("publish"),
  host_port: z.number().int().min(0).max(65535),
  guest_port: z.number().int().min(1).max(65535),
  owner: Id.optional(),
});
export const UnpublishRequest = z.object({
  op: z.literal("unpublish"),
  host_port: z.number().int().min(1).max(65535),
});
export const PortsRequest = z.object({ op: z.literal("ports") });
/** A workspace-disk snapshot tag (the workspace code validates the name it comes from). */
const DiskSnapshotTag = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
/** Freezes /workspace in the guest, snapshots the workspace disk in place, thaws (always). */
export const SnapshotDiskRequest = z.object({ op: z.literal("snapshot_disk"), name: DiskSnapshotTag });
export const DeleteDiskSnapshotRequest = z.object({
  op: z.literal("delete_disk_snapshot"),
  name: DiskSnapshotTag,
});
/** Saves the whole VM into the supervisor's pause folder, then ends it (the VMM and the supervisor exit). */
export const PauseRequest = z.object({ op: z.literal("pause") });
const AbsolutePath = z.string().startsWith("/").max(4096);
/** Saves the VM into `dir` and copies its disks to the paths given (a fork's start); the VM runs on. */
export const ForkRequest = z.object({
  op: z.literal("fork"),
  dir: AbsolutePath,
  root_disk: AbsolutePath.nullable(),
  workspace_disk: AbsolutePath.nullable(),
});
/** A new TTL counted from now (for a workspace: from now as its last activity). */
export const SetTtlRequest = z.object({
  op: z.literal("set_ttl"),
  ttl_seconds: z.number().int().min(1).max(604_800),
});
/** When the VM expires as things stand; asking does not count as activity. */
export const DeadlineRequest = z.object({ op: z.literal("deadline") });

export const ControlRequest = z.discriminatedUnion("op", [
  StartRequest,
  WriteRequest,
  ReadRequest,
  SignalRequest,
  ResizeRequest,
  WaitRequest,
  ListRequest,
  RemoveRequest,
  PublishRequest,
  UnpublishRequest,
  PortsRequest,
  SnapshotDiskRequest,
  DeleteDiskSnapshotRequest,
  PauseRequest,
  ForkRequest,
  SetTtlRequest,
  DeadlineRequest,
]);
export type ControlRequest = z.infer<typeof ControlRequest>;
export type ControlOp = ControlRequest["op"];
export type RequestOf<Op extends ControlOp> = Extract<ControlRequest, { op: Op }>;

// ---- replies: a refusal, or the success reply of the request's kind ----

/**
 * The codes a supervisor refuses with, straight from the error catalog: the client raises them
 * as they are, so every caller reports the same refusal the same way.
 */
export const REFUSAL_CODES = [
  "SHELL_NOT_FOUND",
  "SHELL_ENDED",
  "SERVICE_NOT_FOUND",
  "SERVICE_EXISTS",
  "PORT_IN_USE",
  "LIMIT_EXCEEDED",
  "INVALID_ARGUMENT",
  "VM_NOT_RUNNING",
  "NO_DISK",
  "EXEC_FAILED",
  "INTERNAL",
] as const satisfies readonly ErrorCode[];
export const RefusalCode = z.enum(REFUSAL_CODES);
export type RefusalCode = z.infer<typeof RefusalCode>;

export const Refusal = z.object({ ok: z.literal(false), code: RefusalCode, message: z.string().max(4096) });
export type Refusal = z.infer<typeof Refusal>;

const success = <Op extends ControlOp, Shape extends z.ZodRawShape>(op: Op, shape: Shape) =>
  z.object({ ok: z.literal(true), op: z.literal(op), ...shape });

const WithInfo = { info: ManagedInfo };
/** A read's bytes follow the header; `from` is where they start (later than the cursor when dropped). */
/** The expiry: a fixed time, or (idle_ttl_ms set) the last activity plus idle_ttl_ms. */
const DeadlineShape = { expires_at_ms: Count, idle_ttl_ms: Count.nullable() };
const ReadShape = { from: Count, next: Count, dropped: Count, end: Count, ...WithInfo };

export const ControlReplies = {
  start: success("start", WithInfo),
  write: success("write", {}),
  read: success("read", ReadShape),
  signal: success("signal", {}),
  resize: success("resize", {}),
  wait: success("wait", WithInfo),
  list: success("list", { processes: z.array(ManagedInfo).max(1024) }),
  remove: success("remove", WithInfo),
  publish: success("publish", { port: PublishedPort }),
  unpublish: success("unpublish", { port: PublishedPort }),
  ports: success("ports", { ports: z.array(PublishedPort).max(65535) }),
  snapshot_disk: success("snapshot_disk", {}),
  delete_disk_snapshot: success("delete_disk_snapshot", {}),
  pause: success("pause", { save_ms: z.number().nonnegative() }),
  fork: success("fork", { save_ms: z.number().nonnegative() }),
  set_ttl: success("set_ttl", DeadlineShape),
  deadline: success("deadline", DeadlineShape),
} as const satisfies { [Op in ControlOp]: z.ZodType<{ ok: true; op: Op }> };

export type ReplyOf<Op extends ControlOp> = z.infer<(typeof ControlReplies)[Op]>;

export const ControlSuccess = z.discriminatedUnion("op", [
  ControlReplies.start,
  ControlReplies.write,
  ControlReplies.read,
  ControlReplies.signal,
  ControlReplies.resize,
  ControlReplies.wait,
  ControlReplies.list,
  ControlReplies.remove,
  ControlReplies.publish,
  ControlReplies.unpublish,
  ControlReplies.ports,
  ControlReplies.snapshot_disk,
  ControlReplies.delete_disk_snapshot,
  ControlReplies.pause,
  ControlReplies.fork,
  ControlReplies.set_ttl,
  ControlReplies.deadline,
]);
export const ControlReply = z.union([Refusal, ControlSuccess]);
export type ControlReply = z.infer<typeof ControlReply>;

/** A short, single-line account of what was wrong with a frame, for a refusal or an error. */
export function describeIssues(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
  return text.length > 512 ? `${text.slice(0, 511)}…` : text;
}
