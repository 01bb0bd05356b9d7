import { FLAG_END, MessageType } from "../../agent-protocol/constants.js";
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
/** A status line longer than this is no answer worth reading on. */
const MAX_FIRST_LINE = 4096;

/**
 * Probes a guest port from the host through the agent's own connection stream (CONNECT,
 * docs/protocol.md "Connections"): no tool in the guest is needed, so it works in any image.
 * Closing the client aborts the guest's connection.
 */
export function agentPortProbe(store: SandboxStore, id: string): GuestPortProbe {
  return async (port, request) => {
    const client = await connectSupervisor(store, loadVm(store, id), "pyro-probe");
    try {
      return await new Promise<PortProbeResult>((resolve) => {
        let connected = false;
        let received = Buffer.alloc(0);
        const finish = (firstLine: string | null): void => {
          clearTimeout(timer);
          resolve({ connected, firstLine });
        };
        const timer = setTimeout(() => finish(null), PROBE_TIMEOUT_MS);
        const stream = client.openStream(
          (frame) => {
            if (frame.type === MessageType.CONNECTED) {
              connected = true;
              if (request === null) finish(null);
              else client.send(encode.stdin(stream, Buffer.from(request), true));
              return false;
            }
            if (frame.type === MessageType.STDOUT) {
              received = Buffer.concat([received, frame.body]);
              const end = received.indexOf("\n");
              const ended = (frame.flags & FLAG_END) !== 0;
              if (end >= 0 || ended || received.length > MAX_FIRST_LINE)
                finish(received.subarray(0, end >= 0 ? end : received.length).toString("latin1"));
              return ended;
            }
            // CLOSED or ERROR (CONNECT_FAILED): the stream is over.
            finish(received.length > 0 ? received.toString("latin1") : null);
            return true;
          },
          () => finish(null),
        );
        client.send(encode.connect(stream, port));
      });
    } finally {
      client.close();
    }
  };
}
