import { PyroError, type ErrorCode } from "../errors/index.js";
import { connectSupervisor, type SupervisorTarget } from "./vm-connection.js";
import { decodeControl, encodeControl } from "./control-codec.js";
import type { ControlReply, ControlRequest } from "./control.js";

/** Error codes for a supervisor's refusals, chosen by the caller (shell, service or port). */
export type RefusalCodes = Partial<
  Record<
    "NOT_FOUND" | "EXISTS" | "ENDED" | "LIMIT" | "BUSY" | "NOT_READY" | "PORT_IN_USE" | "INVALID_ARGUMENT",
    ErrorCode
  >
>;

/** Sends one control request to a VM's supervisor and returns its reply (refusals become PyroErrors). */
export async function controlCall(
  vm: SupervisorTarget,
  request: ControlRequest,
  codes: RefusalCodes,
  data?: Buffer,
): Promise<{ reply: Record<string, unknown>; data: Buffer }> {
  const client = await connectSupervisor(vm, "pyro-control");
  try {
    const { header, data: out } = decodeControl<ControlReply>(
      await client.control(encodeControl(request, data)),
    );
    if (!header.ok) {
      const code = codes[header.code as keyof RefusalCodes] ?? "INTERNAL";
      throw new PyroError(code, header.message);
    }
    return { reply: header, data: out };
  } finally {
    client.close();
  }
}
