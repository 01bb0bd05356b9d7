import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { startOllamaLike, type OllamaLike } from "../helpers/ollama-server.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

/** A 127.0.0.1 port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("pyro demo ollama: clear errors before any VM starts", () => {
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

  it("says Ollama is not answering, and how to start it, when nothing listens at OLLAMA_HOST", async () => {
    const port = await closedPort();
    const result = await runPyro(["demo", "ollama"], { OLLAMA_HOST: `127.0.0.1:${port}` });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(
      `error [DEPENDENCY_MISSING]: Ollama is not answering at http://127.0.0.1:${port}`,
    );
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(result.stderr).toMatch(/hint: Start it with `ollama serve`.*`ollama pull llama3\.2:3b`/);
  });

  it("turns Ollama's 404 for a missing model into DEPENDENCY_MISSING naming `ollama pull MODEL` (text and --json)", async () => {
    const text = await runPyro(["demo", "ollama", "--model", "nope:1b"], { OLLAMA_HOST: ollama.url });
    expect(text.code).toBe(69);
    expect(text.stderr).toContain('has no model nope:1b: model "nope:1b" not found, try pulling it first');
    expect(text.stderr).toContain("hint: Pull it with `ollama pull nope:1b`");

    const json = await runPyro(["demo", "ollama", "--model", "nope:1b", "--json"], {
      OLLAMA_HOST: ollama.url,
    });
    expect(json.code).toBe(69);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: {
        code: "DEPENDENCY_MISSING",
        details: { status: 404 },
        hint: expect.stringContaining("ollama pull nope:1b"),
      },
    });
    // The client asked for exactly what it was told to, streaming by default.
    expect(ollama.requests.map((request) => [request.body.model, request.body.stream])).toEqual([
      ["nope:1b", true],
      ["nope:1b", true],
    ]);
  });

  it("says what answered when OLLAMA_HOST is not an Ollama server", async () => {
    const result = await runPyro(["demo", "ollama"], { OLLAMA_HOST: `${ollama.url}/elsewhere` });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain("answered HTTP 404: 404 page not found");
  });
});
