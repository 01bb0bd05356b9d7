import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { startOllamaLike, TOOL_COMMAND, type OllamaLike } from "../helpers/ollama-server.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOST_KERNEL = execFileSync("uname", ["-r"]).toString().trim();
const TASK = "Which kernel does the VM run?";

describe("pyro demo ollama: a model calls vm_run in a real guest until it can answer", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let ollama: OllamaLike;
  beforeAll(async () => {
    home = useTempPyroHome();
    ollama = await startOllamaLike();
  });
  afterAll(async () => {
    await ollama.close();
    home.cleanup();
  });

  it("streams: sends the documented request, runs the tool call in a guest, returns its result as a tool message", async () => {
    // OLLAMA_HOST without a scheme, the way Ollama itself accepts it.
    const result = await runPyro(["demo", "ollama", "--task", TASK], {
      OLLAMA_HOST: `127.0.0.1:${ollama.port}`,
    });
    expect(result.code, result.stderr).toBe(0);

    const [first, second] = ollama.requests;
    expect(ollama.requests).toHaveLength(2);
    expect(first).toMatchObject({ method: "POST", url: "/api/chat", contentType: "application/json" });
    expect(first?.body).toMatchObject({
      model: "llama3.2:3b",
      stream: true,
      messages: [
        { role: "system", content: expect.stringContaining("vm_run") },
        { role: "user", content: TASK },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "vm_run",
            description: expect.any(String),
            parameters: {
              type: "object",
              properties: { command: { type: "string" } },
              required: ["command"],
            },
          },
        },
      ],
    });
    // Nothing offered lets a model pick the host backend or the network.
    expect(Object.keys(first?.body.tools?.[0]?.function.parameters.properties as object).sort()).toEqual([
      "command",
      "timeout_seconds",
    ]);

    const messages = second?.body.messages ?? [];
    expect(messages.slice(2, 3)).toEqual([
      {
        role: "assistant",
        content: "",
        tool_calls: [{ function: { name: "vm_run", arguments: { command: TOOL_COMMAND } } }],
      },
    ]);
    const toolMessage = messages[3];
    expect(toolMessage).toMatchObject({ role: "tool", tool_name: "vm_run" });
    const toolResult = JSON.parse(toolMessage?.content ?? "{}") as {
      exit_code: number;
      stdout: string;
      execution_mode: string;
    };
    const guestKernel = toolResult.stdout.trim();
    expect(toolResult).toMatchObject({ exit_code: 0, execution_mode: expect.stringMatching(/^guest/) });
    expect(guestKernel).not.toBe(HOST_KERNEL); // it ran in the guest, not on the host

    expect(result.stdout).toContain(`tool call (turn 1): vm_run {"command":"${TOOL_COMMAND}"}`);
    expect(result.stdout).toContain(`tool result: {"exit_code":0,"stdout":"${guestKernel}\\n"`);
    expect(result.stdout).toContain(`answer (2 turns, 1 tool calls): The VM runs kernel ${guestKernel}.`);
  });

  it("without streaming (--no-stream --json): one object per turn, the transcript as JSON", async () => {
    ollama.requests.length = 0;
    const result = await runPyro(["demo", "ollama", "--no-stream", "--json", "--task", TASK], {
      OLLAMA_HOST: ollama.url,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(ollama.requests.map((request) => request.body.stream)).toEqual([false, false]);
    const transcript = JSON.parse(result.stdout) as {
      answer: string;
      turns: number;
      tool_calls: Array<{ name: string; arguments: object; result: { stdout: string } }>;
    };
    expect(transcript).toMatchObject({ model: "llama3.2:3b", task: TASK, turns: 2 });
    expect(transcript.tool_calls).toHaveLength(1);
    expect(transcript.tool_calls[0]).toMatchObject({ name: "vm_run", arguments: { command: TOOL_COMMAND } });
    expect(transcript.answer).toBe(`The VM runs kernel ${transcript.tool_calls[0]?.result.stdout.trim()}.`);
  });
});

/** A real Ollama at OLLAMA_HOST with the demo's model: checked once, so the test can say why it is skipped. */
async function realOllama(): Promise<{ url: string; reason: string | null }> {
  const given = process.env.OLLAMA_HOST ?? "http://127.0.0.1:11434";
  const url = (/^[a-z]+:\/\//i.test(given) ? given : `http://${given}`).replace(/\/+$/, "");
  try {
    const response = await fetch(`${url}/api/tags`, { signal: AbortSignal.timeout(2000) });
    const tags = (await response.json()) as { models?: Array<{ name: string }> };
    const names = (tags.models ?? []).map((model) => model.name);
    if (!names.includes("llama3.2:3b"))
      return { url, reason: `Ollama at ${url} has no llama3.2:3b (ollama pull llama3.2:3b)` };
    return { url, reason: null };
  } catch (error) {
    return {
      url,
      reason: `no Ollama answers at ${url} (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}

const real = await realOllama();

describe("pyro demo ollama against a real Ollama", () => {
  it.skipIf(real.reason !== null)(
    `answers the default task with llama3.2:3b${real.reason !== null ? ` — skipped: ${real.reason}` : ""}`,
    async () => {
      const home = useTempPyroHome();
      try {
        const result = await runPyro(["demo", "ollama", "--json"], { OLLAMA_HOST: real.url });
        expect(result.code, result.stderr).toBe(0);
        const transcript = JSON.parse(result.stdout) as { answer: string | null; tool_calls: unknown[] };
        expect(transcript.tool_calls.length).toBeGreaterThan(0);
        expect(transcript.answer).toBeTruthy();
      } finally {
        home.cleanup();
      }
    },
  );
});
