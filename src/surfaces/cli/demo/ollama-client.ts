import { z } from "zod";
import { PyroError } from "../../../errors/index.js";

/**
 * A client for Ollama's `/api/chat` (docs/api.md in the ollama repository): the request carries
 * `model`, `messages`, `tools` and `stream`; the answer is one JSON object, or with `stream: true`
 * newline-delimited JSON chunks whose `message.content` pieces add up and whose last has `done: true`.
 * A tool call is `message.tool_calls[].function` with `name` and `arguments` as an object.
 */

export const DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434";
/** Anything Ollama sends is bounded: one chunk, and the whole answer of one turn. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

const toolCall = z.object({
  function: z.object({
    name: z.string().max(256),
    arguments: z.record(z.string(), z.unknown()),
  }),
});
export type OllamaToolCall = z.infer<typeof toolCall>;

const chatChunk = z.union([
  z.object({ error: z.string().max(65536) }),
  z.object({
    model: z.string().optional(),
    message: z
      .object({
        role: z.string(),
        content: z.string().default(""),
        tool_calls: z.array(toolCall).max(64).optional(),
      })
      .optional(),
    done: z.boolean(),
    done_reason: z.string().optional(),
  }),
]);

export type OllamaMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; tool_calls?: OllamaToolCall[] }
  | { role: "tool"; content: string; tool_name: string };

export interface OllamaTool {
  type: "function";
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface ChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools: OllamaTool[];
  stream: boolean;
}

/** The assistant's turn, put together from one answer or from every streamed chunk. */
export interface ChatTurn {
  content: string;
  tool_calls: OllamaToolCall[];
  done_reason: string | null;
}

/** OLLAMA_HOST as Ollama itself reads it: `host:port` or a URL; a missing scheme means http. */
export function ollamaBaseUrl(host: string | undefined): string {
  const given = (host ?? "").trim() || DEFAULT_OLLAMA_HOST;
  const withScheme = /^[a-z]+:\/\//i.test(given) ? given : `http://${given}`;
  return withScheme.replace(/\/+$/, "");
}

function parseChunk(line: string, base: string): z.infer<typeof chatChunk> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new PyroError(
      "DEPENDENCY_MISSING",
      `${base}/api/chat answered something that is not JSON: ${line.slice(0, 200)}`,
      {
        hint: "Check that OLLAMA_HOST points at an Ollama server.",
      },
    );
  }
  const parsed = chatChunk.safeParse(value);
  if (!parsed.success) {
    throw new PyroError(
      "DEPENDENCY_MISSING",
      `${base}/api/chat answered JSON that is not a chat response: ${line.slice(0, 200)}`,
      {
        hint: "Check that OLLAMA_HOST points at an Ollama server (pyro speaks its /api/chat).",
      },
    );
  }
  return parsed.data;
}

/** An `{"error": …}` answer, by HTTP status: what happened and what to do. */
function ollamaError(
  status: number,
  message: string,
  request: ChatRequest,
  base: string,
  fromOllama: boolean,
): PyroError {
  // Ollama answers an unknown model with 404 and a JSON error; a bare 404 is some other server.
  if (status === 404 && fromOllama) {
    return new PyroError(
      "DEPENDENCY_MISSING",
      `Ollama at ${base} has no model ${request.model}: ${message}`,
      {
        hint: `Pull it with \`ollama pull ${request.model}\`, or pick an installed one with --model (see \`ollama list\`).`,
        details: { status },
      },
    );
  }
  if (/does not support tools/i.test(message)) {
    return new PyroError("INVALID_ARGUMENT", `model ${request.model} cannot call tools: ${message}`, {
      hint: "Pick a model with tool calling, such as llama3.2:3b or qwen2.5, with --model.",
      details: { status },
    });
  }
  return new PyroError("DEPENDENCY_MISSING", `Ollama at ${base} answered HTTP ${status}: ${message}`, {
    hint: "See Ollama's log (`journalctl -u ollama` or the `ollama serve` terminal) for why.",
    details: { status },
  });
}

/** Lines of an NDJSON body, each bounded. */
async function* ndjsonLines(body: AsyncIterable<Uint8Array>, base: string): AsyncGenerator<string> {
  let pending = "";
  let total = 0;
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    total += bytes.byteLength;
    if (total > MAX_ANSWER_BYTES) {
      throw new PyroError(
        "LIMIT_EXCEEDED",
        `${base}/api/chat sent more than ${MAX_ANSWER_BYTES} bytes in one turn`,
      );
    }
    pending += decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== "") yield line;
    }
    if (pending.length > MAX_LINE_BYTES) {
      throw new PyroError(
        "LIMIT_EXCEEDED",
        `${base}/api/chat sent a line longer than ${MAX_LINE_BYTES} bytes`,
      );
    }
  }
  pending += decoder.decode();
  if (pending.trim() !== "") yield pending.trim();
}

/**
 * One POST /api/chat. `onContent` gets the answer's text as it streams. Ollama not answering,
 * a missing model and answers that are not Ollama's become PyroErrors with a hint.
 */
export async function chat(
  base: string,
  request: ChatRequest,
  onContent: (text: string) => void = () => undefined,
  timeoutMs = 600_000,
): Promise<ChatTurn> {
  let response: Response;
  try {
    response = await fetch(`${base}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new PyroError("DEPENDENCY_MISSING", `Ollama is not answering at ${base} (${cause})`, {
      hint: `Start it with \`ollama serve\` (or set OLLAMA_HOST to where it listens), then \`ollama pull ${request.model}\`.`,
      cause: error,
    });
  }
  if (!response.ok || response.body === null) {
    const text = (await response.text().catch(() => "")).slice(0, 65536);
    let message = text.trim() || response.statusText;
    let fromOllama = false;
    try {
      const error = z.object({ error: z.string() }).safeParse(JSON.parse(text));
      if (error.success) [message, fromOllama] = [error.data.error, true];
    } catch {
      // Not JSON: the text itself is the message.
    }
    throw ollamaError(response.status, message, request, base, fromOllama);
  }
  const turn: ChatTurn = { content: "", tool_calls: [], done_reason: null };
  for await (const line of ndjsonLines(response.body, base)) {
    const chunk = parseChunk(line, base);
    if ("error" in chunk) throw ollamaError(response.status, chunk.error, request, base, true);
    if (chunk.message !== undefined) {
      if (chunk.message.content !== "") onContent(chunk.message.content);
      turn.content += chunk.message.content;
      turn.tool_calls.push(...(chunk.message.tool_calls ?? []));
    }
    if (chunk.done) {
      turn.done_reason = chunk.done_reason ?? null;
      return turn;
    }
  }
  throw new PyroError("DEPENDENCY_MISSING", `${base}/api/chat ended its answer without "done": true`, {
    hint: "Ollama stopped mid-answer; see its log, then try again.",
  });
}
