// `vm_run` as an OpenAI-compatible function tool (Chat Completions `tools`), and the code that
// executes the tool calls a model returns. Works with any server that speaks that format
// (OpenAI, Ollama's /v1, vLLM, llama.cpp …).
import { fileURLToPath } from "node:url";
import { Pyro, PyroError } from "pyro-mcp";

export const vmRunTool = {
  type: "function",
  function: {
    name: "vm_run",
    description:
      "Run one shell command in a fresh, disposable Linux microVM (Debian 12 with git) and return its stdout, stderr and exit code. Nothing persists between calls.",
    parameters: {
      type: "object",
      properties: {
        command: { type: "string", description: "Shell command, run with /bin/sh -c in /workspace." },
        environment: {
          type: "string",
          description: "Environment: debian:12 (default), debian:12-base or debian:12-build.",
        },
        timeout_seconds: { type: "integer", minimum: 1, maximum: 600, description: "Default 30." },
      },
      required: ["command"],
      additionalProperties: false,
    },
  },
} as const;

/** A tool call as it appears in a Chat Completions response (`choices[0].message.tool_calls`). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The message to append to the conversation for one tool call. */
export interface ToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string;
}

interface VmRunArguments {
  command: string;
  environment?: string;
  timeout_seconds?: number;
}

/** The model's arguments are untrusted text: parse and check them before use. */
function parseArguments(text: string): VmRunArguments {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) throw new Error("arguments must be a JSON object");
  const { command, environment, timeout_seconds } = value as Record<string, unknown>;
  if (typeof command !== "string" || command === "") throw new Error("command must be a non-empty string");
  if (environment !== undefined && typeof environment !== "string")
    throw new Error("environment must be a string");
  if (
    timeout_seconds !== undefined &&
    (!Number.isInteger(timeout_seconds) || (timeout_seconds as number) < 1)
  )
    throw new Error("timeout_seconds must be a positive integer");
  return {
    command,
    ...(environment !== undefined ? { environment } : {}),
    ...(timeout_seconds !== undefined ? { timeout_seconds: Math.min(timeout_seconds as number, 600) } : {}),
  };
}

/** Executes one tool call through the SDK. Failures become a result the model can read. */
export async function dispatchToolCall(pyro: Pyro, call: ToolCall): Promise<ToolMessage> {
  const reply = (content: unknown): ToolMessage => ({
    role: "tool",
    tool_call_id: call.id,
    content: JSON.stringify(content),
  });
  if (call.function.name !== vmRunTool.function.name)
    return reply({ error: `unknown tool ${call.function.name}` });
  let args: VmRunArguments;
  try {
    args = parseArguments(call.function.arguments);
  } catch (error) {
    return reply({ error: `bad arguments: ${(error as Error).message}` });
  }
  try {
    const result = await pyro.runInVm({
      environment: args.environment ?? "debian:12",
      command: args.command,
      timeoutSeconds: args.timeout_seconds ?? 30,
    });
    return reply({
      exit_code: result.exit_code,
      stdout: result.stdout,
      stderr: result.stderr,
      timed_out: result.timed_out,
    });
  } catch (error) {
    if (error instanceof PyroError)
      return reply({ error: { code: error.code, message: error.message, hint: error.hint } });
    throw error;
  }
}

// Run directly: execute one tool call shaped exactly as a model returns it.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fromModel: ToolCall = {
    id: "call_1",
    type: "function",
    function: { name: "vm_run", arguments: JSON.stringify({ command: "uname -r && git --version" }) },
  };
  console.log(
    JSON.stringify({
      tools: [vmRunTool.function.name],
      message: await dispatchToolCall(new Pyro(), fromModel),
    }),
  );
}
