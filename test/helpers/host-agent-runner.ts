import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { FileOps } from "../../src/agent-protocol/file-ops.js";

const AGENT = fileURLToPath(new URL("../../guest/build/pyro-agent", import.meta.url));

export interface HostAgent {
  /** The host folder the agent maps /workspace to (the root its file operations are confined to). */
  workdir: string;
  /** The agent's native file operations. */
  files: FileOps;
  stop(): Promise<void>;
}

/** The real agent in host mode over stdio. */
export async function startHostAgent(workdir: string): Promise<HostAgent> {
  mkdirSync(workdir, { recursive: true });
  const child = spawn(AGENT, ["--host", "--workdir", workdir], { stdio: ["pipe", "pipe", "inherit"] });
  const client = await AgentClient.connect(Duplex.from({ readable: child.stdout, writable: child.stdin }), {
    client: "test",
  });
  const stop = async (): Promise<void> => {
    client.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  };
  return { workdir, files: new FileOps(client), stop };
}
