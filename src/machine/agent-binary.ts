import { existsSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageRoot } from "../platform/package-info.js";
import { nativePartFix, nativePartMissing } from "../platform/install-kind.js";

/** The static guest agent: built from guest/ in a checkout, shipped built in the npm package (PYRO_AGENT_BIN overrides it). */
export function agentBinaryPath(): string {
  const path = process.env.PYRO_AGENT_BIN ?? join(packageRoot(), "guest", "build", "pyro-agent");
  if (!existsSync(path)) {
    throw new PyroError("DEPENDENCY_MISSING", `${nativePartMissing("agent")} (${path} is missing)`, {
      hint: nativePartFix("agent"),
    });
  }
  return path;
}
