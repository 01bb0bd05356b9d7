import { toPyroError } from "../../../errors/index.js";
import type { Invoke } from "../output.js";
import { chat, type OllamaMessage, type OllamaTool, type OllamaToolCall } from "./ollama-client.js";

/** Guest output sent back to the model, per stream: enough to read, not enough to flood its context. */
const TOOL_OUTPUT_CHARS = 4000;

export interface OllamaDemoOptions {
  base: string;
  model: string;
  task: string;
  environment: string;
  stream: boolean;
  maxTurns: number;
}

export interface ToolCallRecord {
  turn: number;
  name: string;
  arguments: Record<string, unknown>;
  result: Record<string, unknown>;
}

export interface OllamaDemoResult {
  model: string;
  task: string;
  answer: string | null;
  turns: number;
  tool_calls: ToolCallRecord[];
}

/** What the loop reports as it goes: the CLI prints each line. */
export interface OllamaDemoEvents {
  onToolCall(call: ToolCallRecord): void;
  onContent(text: string): void;
}

const SYSTEM_PROMPT =
  "You can run shell commands in a disposable Linux microVM with the vm_run tool. Call it whenever the task needs facts about that machine, read its stdout and exit_code, and answer the user once you know.";

/**
 * vm_run as the model sees it: only what a model should choose. The environment is the demo's,
 * and nothing lets it pick the host backend or open the network.
 */
export const VM_RUN_TOOL: OllamaTool = {
  type: "function",
  function: {
    name: "vm_run",
    description:
      "Run one shell command in a fresh, disposable Linux microVM and return its stdout, stderr and exit code.",
    parameters: {
      type: "object",
      properties: {
        command: { type: "string", description: "The shell command to run, e.g. 'uname -r'." },
        timeout_seconds: {
          type: "integer",
          description: "Kill the command after this many seconds (default 30).",
        },
      },
      required: ["command"],
    },
  },
};

const clip = (text: string): string =>
  text.length > TOOL_OUTPUT_CHARS ? `${text.slice(0, TOOL_OUTPUT_CHARS)}… [truncated]` : text;

/** Runs one tool call in a guest; a failure is a result too, so the model can read it and retry. */
async function runToolCall(
  invoke: Invoke,
  call: OllamaToolCall,
  environment: string,
): Promise<Record<string, unknown>> {
  if (call.function.name !== "vm_run") {
    return {
      error: { code: "INVALID_ARGUMENT", message: `no tool named ${call.function.name}; use vm_run` },
    };
  }
  const { command, timeout_seconds } = call.function.arguments;
  try {
    const { vmRun } = await import("../../../api/specs/vm.js");
    const outcome = await invoke(
      vmRun,
      {
        environment,
        command,
        ...(timeout_seconds !== undefined ? { timeout_seconds } : {}),
      },
      {},
    );
    return {
      exit_code: outcome.exit_code,
      stdout: clip(outcome.stdout),
      stderr: clip(outcome.stderr),
      timed_out: outcome.timed_out,
      execution_mode: outcome.execution_mode,
    };
  } catch (error) {
    const pyroError = toPyroError(error);
    return { error: { code: pyroError.code, message: pyroError.message, hint: pyroError.hint } };
  }
}

/**
 * The agent loop: ask the model, run every vm_run it calls in a fresh guest, send each result
 * back as a `tool` message, until it answers without calling a tool (or the turns run out).
 */
export async function runOllamaDemo(
  invoke: Invoke,
  options: OllamaDemoOptions,
  events: OllamaDemoEvents,
): Promise<OllamaDemoResult> {
  const messages: OllamaMessage[] = [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: options.task },
  ];
  const calls: ToolCallRecord[] = [];
  for (let turn = 1; turn <= options.maxTurns; turn++) {
    const reply = await chat(
      options.base,
      { model: options.model, messages, tools: [VM_RUN_TOOL], stream: options.stream },
      events.onContent,
    );
    messages.push({
      role: "assistant",
      content: reply.content,
      ...(reply.tool_calls.length > 0 ? { tool_calls: reply.tool_calls } : {}),
    });
    if (reply.tool_calls.length === 0) {
      return {
        model: options.model,
        task: options.task,
        answer: reply.content,
        turns: turn,
        tool_calls: calls,
      };
    }
    for (const call of reply.tool_calls) {
      const result = await runToolCall(invoke, call, options.environment);
      const record = { turn, name: call.function.name, arguments: call.function.arguments, result };
      calls.push(record);
      events.onToolCall(record);
      messages.push({ role: "tool", content: JSON.stringify(result), tool_name: call.function.name });
    }
  }
  return {
    model: options.model,
    task: options.task,
    answer: null,
    turns: options.maxTurns,
    tool_calls: calls,
  };
}
