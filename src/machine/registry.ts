import { PyroError } from "../errors/index.js";
import { hostBackend } from "./host/backend.js";
import { qemuBackend } from "./qemu/backend.js";
import type { Backend } from "./types.js";

export function backendByName(name: string): Backend {
  if (name === "qemu") return qemuBackend;
  if (name === "host") return hostBackend;
  if (name === "firecracker") {
    throw new PyroError("BACKEND_UNAVAILABLE", "the firecracker backend is not available in this version", {
      hint: "Use --backend qemu (the default where QEMU is installed).",
    });
  }
  throw new PyroError("INVALID_ARGUMENT", `unknown backend ${name}`, {
    hint: "Use qemu, firecracker or host.",
  });
}
