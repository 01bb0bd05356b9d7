import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

describe("vm_run over MCP in a real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let client: Client;
  beforeAll(async () => {
    home = useTempPyroHome();
    client = await connectMcp("vm-run");
  });
  afterAll(async () => {
    await client.close();
    home.cleanup();
  });

  it("runs the command in the guest and returns structured content", async () => {
    const guestKernel = await installedGuestKernel();
    const result = (await client.callTool({
      name: "vm_run",
      arguments: { environment: "debian:12", command: ["sh", "-c", "uname -r; git --version"], mem_mib: 512 },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const outcome = result.structuredContent as {
      stdout: string;
      exit_code: number;
      execution_mode: string;
      backend: string;
    };
    expect(outcome.exit_code).toBe(0);
    expect(outcome.execution_mode).toBe("guest_serial");
    expect(outcome.backend).toBe("qemu");
    expect(outcome.stdout.split("\n")[0]).toBe(guestKernel);
    expect(outcome.stdout).toMatch(/git version/);
  });
});
