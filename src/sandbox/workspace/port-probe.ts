import { MessageType } from "../../agent-protocol/constants.js";
import { encode } from "../../agent-protocol/messages.js";
import type { SandboxStore } from "../store.js";
import { connectSupervisor } from "../supervisor-client.js";
import { loadVm } from "../vm/liveness.js";

/** What a probe of a guest port saw: whether it connected, and the reply's first line (if asked). */
export interface PortProbeResult {
  connected: boolean;
  firstLine: string | null;
}

/** Connects to 127.0.0.1:port in the guest; with `request`, sends it and reads the reply's first line. */
export type GuestPortProbe = (port: number, request: string | null) => Promise<PortProbeResult>;

const PROBE_TIMEOUT_MS = 3_000;
/** How long a connected probe waits for the server to close after our end of input. */
const CLOSE_GRACE_MS = 1_000;
/** The start of the reply that is kept (for its first line); the rest is read and dropped. */
const KEPT_BYTES = 4096;
/** A reply longer than this is cut off (the connection aborted) rather than read to its end. */
const MAX_DRAINED_BYTES = 1024 * 1024;

/**
 * Probes a guest port from the host through the agent's own connection stream (CONNECT,
 * docs/protocol.md "Connections"): no tool in the guest is needed, so it works in any image.
 * The probe ends its input (with the request, if any) and reads the reply until the server
 * closes, so a simple server sees an orderly client; only a server that holds the connection
 * open past the grace period, or sends more than a MiB, gets a reset.
 */
export function agentPortProbe(store: SandboxStore, id: string): GuestPortProbe {
  return async (port, request) => {
    const client = await connectSupervisor(store, loadVm(store, id), "pyro-probe");
    try {
      return await new Promise<PortProbeResult>((resolve) => {
        let connected = false;
        let kept = Buffer.alloc(0);
        let drained = 0;
        let timer = setTimeout(() => finish(), PROBE_TIMEOUT_MS);
        function finish(): void {
          clearTimeout(timer);
          const end = kept.indexOf("\n");
          const firstLine = kept.length === 0 ? null : kept.subarray(0, end >= 0 ? end : kept.length);
          resolve({ connected, firstLine: firstLine?.toString("latin1") ?? null });
        }
        const stream = client.openStream(
          (frame) => {
            if (frame.type === MessageType.CONNECTED) {
              connected = true;
              client.send(encode.stdin(stream, Buffer.from(request ?? ""), true));
              if (request === null) {
                clearTimeout(timer);
                timer = setTimeout(() => finish(), CLOSE_GRACE_MS);
              }
              return false;
            }
            if (frame.type === MessageType.STDOUT) {
              if (kept.length < KEPT_BYTES) kept = Buffer.concat([kept, frame.body]).subarray(0, KEPT_BYTES);
              drained += frame.body.length;
              if (frame.body.length > 0) client.send(encode.ack(stream, frame.body.length));
              if (drained > MAX_DRAINED_BYTES) finish();
              return false;
            }
            // CLOSED, or ERROR (CONNECT_FAILED): the stream is over.
            finish();
            return true;
          },
          () => finish(),
        );
        client.send(encode.connect(stream, port));
      });
    } finally {
      client.close();
    }
  };
}
