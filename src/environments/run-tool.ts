import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export interface RunToolOptions {
  /** Where the command line and all output go (the build log). */
  log: Writable;
  /** Called for each complete line of output (stdout and stderr). */
  onLine?(line: string): void;
  /** Bytes fed to stdin. */
  input?: Uint8Array;
  /** Send stdout to this file instead of the log (binary output). */
  stdoutFile?: string;
  /** Keep stdout and return it. */
  captureStdout?: boolean;
  /** Resolve whatever the exit code (the caller checks the result itself). */
  ignoreExitCode?: boolean;
  /** Variables added to the tool's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
}

/** A tool failed; `tail` holds its last lines of output for the error message. */
export class ToolFailure extends Error {
  constructor(
    message: string,
    readonly tail: string[],
  ) {
    super(message);
    this.name = "ToolFailure";
  }
}

const TAIL_LINES = 8;

/** Runs a tool with LC_ALL=C (parseable output), logging everything it prints. */
export async function runTool(command: string, args: string[], options: RunToolOptions): Promise<ToolResult> {
  options.log.write(`$ ${[command, ...args].map(shellQuote).join(" ")}\n`);
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env, LC_ALL: "C" },
    stdio: [options.input ? "pipe" : "ignore", "pipe", "pipe"],
  });
  const { stdout, stderr } = child;
  if (!stdout || !stderr) throw new Error(`${command}: no output pipes`);
  const tail: string[] = [];
  const stdoutChunks: Buffer[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLine?.(line);
  };
  const stdoutLines = lineSplitter(onLine);
  const stderrLines = lineSplitter(onLine);

  const stdoutDone = options.stdoutFile
    ? pipeToFile(stdout, options.stdoutFile)
    : collect(stdout, (chunk) => {
        options.log.write(chunk);
        if (options.captureStdout) stdoutChunks.push(chunk);
        stdoutLines.push(chunk);
      });
  const stderrDone = collect(stderr, (chunk) => {
    options.log.write(chunk);
    stderrLines.push(chunk);
  });
  if (options.input && child.stdin) {
    // lz4 may exit before reading all its input (trailing garbage); that EPIPE is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  }

  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  await Promise.all([stdoutDone, stderrDone]);
  stdoutLines.flush();
  stderrLines.flush();
  options.log.write(`[exit ${exitCode}]\n`);
  if (exitCode !== 0 && !options.ignoreExitCode) {
    throw new ToolFailure(`${command} exited with code ${exitCode}`, tail);
  }
  return { exitCode, stdout: Buffer.concat(stdoutChunks).toString("utf8") };
}

function collect(stream: NodeJS.ReadableStream, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => onChunk(chunk));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
}

function pipeToFile(stream: NodeJS.ReadableStream, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const file = createWriteStream(path);
    file.on("finish", resolve);
    file.on("error", reject);
    stream.on("error", reject);
    stream.pipe(file);
  });
}

/** Splits one stream's chunks into lines (a decoder per stream keeps multi-byte characters whole). */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; flush(): void } {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  return {
    push(chunk) {
      const lines = (pending + decoder.write(chunk)).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line.replace(/\r$/, ""));
    },
    flush() {
      pending += decoder.end();
      if (pending !== "") onLine(pending);
      pending = "";
    },
  };
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
