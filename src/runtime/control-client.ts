import type { z } from "zod";
import type { AgentClient } from "../agent-protocol/client.js";
import { PyroError } from "../errors/index.js";
import { ControlFramingError, decodeControl, encodeControl } from "./control-codec.js";
import {
  ControlReplies,
  Refusal,
  describeIssues,
  type ControlOp,
  type ManagedInfo,
  type PublishedPort,
  type ReplyOf,
  type RequestOf,
} from "./control-protocol.js";

/** A request's fields without its `op`: what a client method takes. */
type Args<Op extends ControlOp> = Omit<RequestOf<Op>, "op">;

/** A VM's expiry: fixed, or the last activity plus idle_ttl_ms. */
export type Deadline = Omit<ReplyOf<"deadline">, "ok" | "op">;

/** A read's header and the output bytes that came with it. */
export type ReadResult = Omit<ReplyOf<"read">, "ok" | "op"> & { data: Buffer };

/**
 * The client side of a VM supervisor's control channel: one method per request, each returning
 * its parsed reply. A refusal is raised as a PyroError with the catalog code the supervisor chose.
 * Each call opens its own session (`connect`), so a client object is cheap and holds nothing open.
 */
export class ControlClient {
  constructor(private readonly connect: () => Promise<AgentClient>) {}

  async start(args: Args<"start">): Promise<ManagedInfo> {
    return (await this.call({ op: "start", ...args }, ControlReplies.start)).reply.info;
  }

  async write(args: Args<"write">, data: Buffer): Promise<void> {
    await this.call({ op: "write", ...args }, ControlReplies.write, data);
  }

  async read(args: Args<"read">): Promise<ReadResult> {
    const { reply, data } = await this.call({ op: "read", ...args }, ControlReplies.read);
    return {
      from: reply.from,
      next: reply.next,
      dropped: reply.dropped,
      end: reply.end,
      info: reply.info,
      data,
    };
  }

  async signal(args: Args<"signal">): Promise<void> {
    await this.call({ op: "signal", ...args }, ControlReplies.signal);
  }

  async resize(args: Args<"resize">): Promise<void> {
    await this.call({ op: "resize", ...args }, ControlReplies.resize);
  }

  async wait(args: Args<"wait">): Promise<ManagedInfo> {
    return (await this.call({ op: "wait", ...args }, ControlReplies.wait)).reply.info;
  }

  async list(): Promise<ManagedInfo[]> {
    return (await this.call({ op: "list" }, ControlReplies.list)).reply.processes;
  }

  async remove(args: Args<"remove">): Promise<ManagedInfo> {
    return (await this.call({ op: "remove", ...args }, ControlReplies.remove)).reply.info;
  }

  /** Publishes host 127.0.0.1:host_port (0 = a free port) to guest_port of the VM. */
  async publish(args: Args<"publish">): Promise<PublishedPort> {
    return (await this.call({ op: "publish", ...args }, ControlReplies.publish)).reply.port;
  }

  /** Closes a published host port and resets its open connections. */
  async unpublish(args: Args<"unpublish">): Promise<PublishedPort> {
    return (await this.call({ op: "unpublish", ...args }, ControlReplies.unpublish)).reply.port;
  }

  async ports(): Promise<PublishedPort[]> {
    return (await this.call({ op: "ports" }, ControlReplies.ports)).reply.ports;
  }

  /** Freezes /workspace, snapshots the workspace disk under `name` (a tag), thaws. */
  async snapshotDisk(name: string): Promise<void> {
    await this.call({ op: "snapshot_disk", name }, ControlReplies.snapshot_disk);
  }

  async deleteDiskSnapshot(name: string): Promise<void> {
    await this.call({ op: "delete_disk_snapshot", name }, ControlReplies.delete_disk_snapshot);
  }

  /** Saves the VM into its pause folder and ends it; resolves once the state is on disk. */
  async pause(): Promise<{ save_ms: number }> {
    const { save_ms } = (await this.call({ op: "pause" }, ControlReplies.pause)).reply;
    return { save_ms };
  }

  /** Saves the VM into `args.dir` and copies its disks to the paths given; the VM runs on. */
  async fork(args: Args<"fork">): Promise<{ save_ms: number }> {
    const { save_ms } = (await this.call({ op: "fork", ...args }, ControlReplies.fork)).reply;
    return { save_ms };
  }

  /** A new TTL counted from now; returns the new expiry. */
  async setTtl(args: Args<"set_ttl">): Promise<Deadline> {
    const { reply } = await this.call({ op: "set_ttl", ...args }, ControlReplies.set_ttl);
    return { expires_at_ms: reply.expires_at_ms, idle_ttl_ms: reply.idle_ttl_ms };
  }

  /** When the VM expires as things stand (asking is not activity). */
  async deadline(): Promise<Deadline> {
    const { reply } = await this.call({ op: "deadline" }, ControlReplies.deadline);
    return { expires_at_ms: reply.expires_at_ms, idle_ttl_ms: reply.idle_ttl_ms };
  }

  /** Sends one request and parses the reply with the schema of its kind. */
  private async call<Op extends ControlOp, Reply extends z.ZodType<{ ok: true; op: Op }>>(
    request: RequestOf<Op>,
    schema: Reply,
    data?: Buffer,
  ): Promise<{ reply: z.infer<Reply>; data: Buffer }> {
    const client = await this.connect();
    let body: Buffer;
    try {
      body = await client.control(encodeControl(request, data));
    } finally {
      client.close();
    }
    const { header, data: out } = decodeReply(body);
    const refusal = Refusal.safeParse(header);
    if (refusal.success) throw new PyroError(refusal.data.code, refusal.data.message);
    const reply = schema.safeParse(header);
    if (!reply.success) {
      throw new PyroError(
        "PROTOCOL_ERROR",
        `malformed supervisor reply to ${request.op}: ${describeIssues(reply.error)}`,
      );
    }
    return { reply: reply.data, data: out };
  }
}

function decodeReply(body: Buffer): { header: unknown; data: Buffer } {
  try {
    return decodeControl(body);
  } catch (error) {
    if (error instanceof ControlFramingError)
      throw new PyroError("PROTOCOL_ERROR", `malformed supervisor reply: ${error.message}`);
    throw error;
  }
}
