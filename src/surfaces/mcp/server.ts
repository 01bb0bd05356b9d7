import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type ServerNotification,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { ProgressReporter } from "../../platform/phases.js";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import { hostPathPolicy } from "../../api/host-paths.js";
import { inputSchemaOf } from "../../api/input-schema.js";
import { invokeOperation } from "../../api/invoke.js";
import { operationsForProfile } from "../../api/specs/index.js";
import { SandboxStore, type StoreOptions } from "../../api/store.js";
import type { AnyOperation, Profile } from "../../api/types.js";
import { packageVersion } from "../../platform/package-info.js";
import { toolError, toolSuccess } from "./tool-result.js";

/** The operation as a profile sees it: parameters reserved for workspace-full are left out elsewhere. */
function forProfile(operation: AnyOperation, profile: Profile): AnyOperation {
  const hidden = profile === "workspace-full" ? [] : (operation.fullProfileOnly ?? []);
  if (hidden.length === 0) return operation;
  const shape = Object.fromEntries(
    Object.entries(inputSchemaOf(operation).shape).filter(([key]) => !hidden.includes(key)),
  );
  return { ...operation, input: z.object(shape).strict() };
}

export interface McpServerOptions {
  /**
   * Host folders the tools may read or write besides the server's working directory: an MCP
   * caller may be steered by text a guest produced, so it never gets the whole host.
   */
  allowHostPaths?: readonly string[];
  /** The store the server works on (its home); built once for the server's life. */
  store?: StoreOptions;
}

/** The MCP server for one profile. Tool validation goes through the operation table so errors carry pyro's codes. */
export function createMcpServer(profile: Profile, options: McpServerOptions = {}): Server {
  const policy = hostPathPolicy([process.cwd(), ...(options.allowHostPaths ?? [])]);
  const store = new SandboxStore(options.store);
  const operations = operationsForProfile(profile).map((operation) => forProfile(operation, profile));
  const server = new Server(
    { name: "pyro-mcp", version: packageVersion() },
    {
      capabilities: { tools: {} },
      instructions:
        "pyro runs commands in disposable Linux microVMs on this host. Use vm_run for one-shot commands; results include stdout, stderr and exit_code.",
    },
  );
  const tools: Tool[] = operations.map((operation) => ({
    name: operation.name,
    description: operation.description,
    inputSchema: z.toJSONSchema(inputSchemaOf(operation), { io: "input" }) as Tool["inputSchema"],
  }));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const operation = operations.find((candidate) => candidate.name === request.params.name);
    if (operation === undefined) {
      return toolError(
        new PyroError("INVALID_ARGUMENT", `no tool ${request.params.name} in profile ${profile}`, {
          hint: `Available: ${operations.map((op) => op.name).join(", ")}`,
        }),
      );
    }
    try {
      const progressToken = request.params._meta?.progressToken;
      const output = await invokeOperation(operation, request.params.arguments ?? {}, {
        hostPathPolicy: policy,
        store,
        ...(progressToken === undefined ? {} : { onProgress: progressNotifier(progressToken, extra) }),
      });
      return toolSuccess(operation.render(output), output);
    } catch (error) {
      return toolError(error);
    }
  });
  return server;
}

const PROGRESS_EVERY_MS = 250;

/**
 * Transfer progress as MCP `notifications/progress` for a caller that sent a progress token:
 * at most one every 250 ms (and the last), `progress` only ever increasing as the spec asks, and
 * `total` only when it is known.
 */
export function progressNotifier(
  progressToken: string | number,
  extra: { sendNotification(notification: ServerNotification): Promise<void> },
): ProgressReporter {
  let lastAt = 0;
  let sent = -1;
  return (report) => {
    const now = Date.now();
    const finished = report.total_bytes > 0 && report.done_bytes >= report.total_bytes;
    if (report.done_bytes <= sent) return;
    if (!finished && now - lastAt < PROGRESS_EVERY_MS) return;
    lastAt = now;
    sent = report.done_bytes;
    const total = report.total_bytes > 0 ? { total: report.total_bytes } : {};
    const message = `${report.phase}: ${report.done_bytes} of ${report.total_bytes > 0 ? report.total_bytes : "?"} bytes`;
    void extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken, progress: report.done_bytes, ...total, message },
      })
      .catch(() => undefined);
  };
}

export async function serveStdio(profile: Profile, options: McpServerOptions = {}): Promise<void> {
  const server = createMcpServer(profile, options);
  await server.connect(new StdioServerTransport());
}
