import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local server speaking Ollama's `/api/chat` as its API documentation describes: NDJSON chunks
 * when `stream` is true (or absent), one object when it is false; a model that is not installed
 * is a 404 with an `{"error": …}` body. Its "model" calls `vm_run` once, then answers from the
 * tool result. Every request is recorded so a test can check what the client sent.
 */
export interface ChatRequestSeen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: {
    model: string;
    stream?: boolean;
    tools?: Array<{
      type: string;
      function: { name: string; description: string; parameters: Record<string, unknown> };
    }>;
    messages: Array<{
      role: string;
      content: string;
      tool_name?: string;
      tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>;
    }>;
  };
}

export interface OllamaLike {
  url: string;
  port: number;
  requests: ChatRequestSeen[];
  close(): Promise<void>;
}

const MODEL = "llama3.2:3b";
export const TOOL_COMMAND = "uname -r";

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stats = { total_duration: 4883583458, load_duration: 1334875, prompt_eval_count: 26, eval_count: 12 };

/** The assistant's turn: a vm_run call, or (after a tool result) an answer quoting it. */
function nextTurn(body: ChatRequestSeen["body"]): { content: string[]; tool_calls?: unknown[] } {
  const last = body.messages.at(-1);
  if (last?.role !== "tool") {
    return {
      content: [""],
      tool_calls: [{ function: { name: "vm_run", arguments: { command: TOOL_COMMAND } } }],
    };
  }
  const result = JSON.parse(last.content) as { stdout?: string };
  return { content: ["The VM ", "runs kernel ", (result.stdout ?? "").trim(), "."] };
}

export async function startOllamaLike(): Promise<OllamaLike> {
  const requests: ChatRequestSeen[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const text = await readBody(request);
      if (request.method !== "POST" || request.url !== "/api/chat") {
        response.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
        return;
      }
      const body = JSON.parse(text) as ChatRequestSeen["body"];
      requests.push({
        method: request.method,
        url: request.url,
        contentType: request.headers["content-type"],
        body,
      });
      if (body.model !== MODEL) {
        response
          .writeHead(404, { "content-type": "application/json; charset=utf-8" })
          .end(JSON.stringify({ error: `model "${body.model}" not found, try pulling it first` }));
        return;
      }
      const created_at = new Date().toISOString();
      const turn = nextTurn(body);
      if (body.stream === false) {
        response.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(
          JSON.stringify({
            model: MODEL,
            created_at,
            message: {
              role: "assistant",
              content: turn.content.join(""),
              ...(turn.tool_calls ? { tool_calls: turn.tool_calls } : {}),
            },
            done_reason: "stop",
            done: true,
            ...stats,
          }),
        );
        return;
      }
      response.writeHead(200, { "content-type": "application/x-ndjson" });
      const write = (chunk: object) => response.write(`${JSON.stringify(chunk)}\n`);
      for (const piece of turn.content) {
        write({ model: MODEL, created_at, message: { role: "assistant", content: piece }, done: false });
        await delay(20);
      }
      if (turn.tool_calls) {
        write({
          model: MODEL,
          created_at,
          message: { role: "assistant", content: "", tool_calls: turn.tool_calls },
          done: false,
        });
      }
      write({
        model: MODEL,
        created_at,
        message: { role: "assistant", content: "" },
        done_reason: "stop",
        done: true,
        ...stats,
      });
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
