import type { Command } from "commander";
import { PyroError } from "../../../errors/index.js";
import { addExample } from "../commands.js";
import { printJson, reportError, type Invoke } from "../output.js";
import {
  DEFAULT_DEMO_ENVIRONMENT,
  DEFAULT_DEMO_URL,
  DEFAULT_MAX_TURNS,
  DEFAULT_OLLAMA_MODEL,
  DEFAULT_OLLAMA_TASK,
} from "./defaults.js";

/**
 * `pyro demo` and `pyro demo ollama`: CLI commands, not operations. Over MCP the chat host's own
 * model is the agent and `vm_run` is already the tool a demo would wrap; the SDK has the same
 * steps as `createVm`/`startVm`/`execVm`. So a demo only adds noise to a tool list, and stays
 * a terminal proof that the host works.
 */

interface DemoFlags {
  network?: boolean;
  url: string;
  environment: string;
  json?: boolean;
}

interface OllamaFlags {
  model: string;
  task: string;
  environment: string;
  stream: boolean;
  maxTurns: string;
  json?: boolean;
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 50) {
    throw new PyroError("INVALID_ARGUMENT", `${flag} must be an integer from 1 to 50 (got ${text})`);
  }
  return value;
}

export function addDemoCommands(program: Command, invoke: Invoke, setExit: (code: number) => void): void {
  const demo = program
    .command("demo")
    .description("Prove the host works: one VM created, started, used and deleted (JSON result)")
    .option("--network", "give the guest egress and prove DNS resolution and an HTTP fetch")
    .option("--url <url>", "what the network demo resolves and fetches (http:// only)", DEFAULT_DEMO_URL)
    .option("--environment <name>", "environment of the VM", DEFAULT_DEMO_ENVIRONMENT)
    .option("--json", "print the result as JSON (it always is; accepted for symmetry)")
    .action(async (flags: DemoFlags) => {
      try {
        const { runDemo, demoSucceeded } = await import("./lifecycle.js");
        const result = await runDemo(invoke, {
          environment: flags.environment,
          network: flags.network === true,
          url: flags.url,
        });
        printJson(result);
        setExit(demoSucceeded(result) ? 0 : 1);
      } catch (error) {
        setExit(reportError(error, flags.json === true));
      }
    });
  addExample(demo, "pyro demo --network");

  const ollama = demo
    .command("ollama")
    .description(
      "A small agent: a model served by Ollama (OLLAMA_HOST) calls vm_run until it can answer a task",
    )
    .option("--model <model>", "Ollama model with tool calling", DEFAULT_OLLAMA_MODEL)
    .option("--task <text>", "what to ask the model", DEFAULT_OLLAMA_TASK)
    .option("--environment <name>", "environment of each vm_run", DEFAULT_DEMO_ENVIRONMENT)
    .option("--no-stream", "ask Ollama for whole answers instead of a stream of chunks")
    .option("--max-turns <n>", "give up after this many chat requests", String(DEFAULT_MAX_TURNS))
    .option("--json", "print the transcript (tool calls, results, answer) as JSON")
    .action(async () => {
      // `demo` has --json and --environment too, and commander gives them to it wherever they
      // stand on the line: read them with the parent's values included.
      const flags = ollama.optsWithGlobals<OllamaFlags>();
      const json = flags.json === true;
      try {
        const [{ ollamaBaseUrl }, { runOllamaDemo }] = await Promise.all([
          import("./ollama-client.js"),
          import("./ollama-loop.js"),
        ]);
        const base = ollamaBaseUrl(process.env.OLLAMA_HOST);
        if (!json) process.stdout.write(`[ollama] ${base} model=${flags.model}\ntask: ${flags.task}\n`);
        let streaming = false;
        const result = await runOllamaDemo(
          invoke,
          {
            base,
            model: flags.model,
            task: flags.task,
            environment: flags.environment,
            stream: flags.stream,
            maxTurns: positiveInteger(flags.maxTurns, "--max-turns"),
          },
          {
            onContent: (text) => {
              if (json) return;
              if (!streaming) process.stdout.write("model: ");
              streaming = true;
              process.stdout.write(text);
            },
            onToolCall: (call) => {
              if (json) return;
              if (streaming) process.stdout.write("\n");
              streaming = false;
              process.stdout.write(
                `tool call (turn ${call.turn}): ${call.name} ${JSON.stringify(call.arguments)}\n`,
              );
              process.stdout.write(`tool result: ${JSON.stringify(call.result)}\n`);
            },
          },
        );
        if (json) printJson(result);
        else {
          if (streaming) process.stdout.write("\n");
          process.stdout.write(
            result.answer === null
              ? `no answer after ${result.turns} turns (${result.tool_calls.length} tool calls)\n`
              : `answer (${result.turns} turns, ${result.tool_calls.length} tool calls): ${result.answer}\n`,
          );
        }
        setExit(result.answer === null ? 1 : 0);
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
  addExample(ollama, "OLLAMA_HOST=http://127.0.0.1:11434 pyro demo ollama --model llama3.2:3b");
}
