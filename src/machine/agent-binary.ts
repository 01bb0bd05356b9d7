import { existsSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageRoot } from "../platform/package-info.js";

/** The guest agent binary built from guest/ (PYRO_AGENT_BIN overrides it). */
export function agentBinaryPath(): string {
  const path = process.env.PYRO_AGENT_BIN ?? join(packageRoot(), "guest", "build", "pyro-agent");
  if (!existsSync(path)) {
    throw new PyroError("DEPENDENCY_MISSING", `the guest agent is not built (${path} is missing)`, {
      hint: "Run `npm run build:agent` (needs musl-tools: apt-get install musl-tools).",
    });
  }
  return path;
}
