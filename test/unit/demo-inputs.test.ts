import { describe, expect, it } from "vitest";
import { networkCommand, demoSucceeded, type DemoResult } from "../../src/surfaces/cli/demo/lifecycle.js";
import { ollamaBaseUrl } from "../../src/surfaces/cli/demo/ollama-client.js";

describe("demo inputs", () => {
  it("reads OLLAMA_HOST as Ollama does: host:port or a URL, http by default", () => {
    expect(ollamaBaseUrl(undefined)).toBe("http://127.0.0.1:11434");
    expect(ollamaBaseUrl("")).toBe("http://127.0.0.1:11434");
    expect(ollamaBaseUrl("127.0.0.1:9999")).toBe("http://127.0.0.1:9999");
    expect(ollamaBaseUrl("https://ollama.internal/")).toBe("https://ollama.internal");
  });

  it("fetches only plain http URLs, and keeps their parts data in the guest script", () => {
    expect(() => networkCommand("https://example.com/")).toThrow(/must be http:\/\//);
    expect(() => networkCommand("not a url")).toThrow(/is not a URL/);
    const { argv, host } = networkCommand("http://example.com:8080/a?b='c'");
    expect(host).toBe("example.com");
    expect(argv.slice(0, 2)).toEqual(["bash", "-c"]);
    // URL parsing percent-encodes what could end the quotes; the quoting is a second guard.
    expect(argv[2]).toContain("path='/a?b=%27c%27'");
  });

  it("counts a network demo as passed only with an address and an HTTP status line", () => {
    const base = { exit_code: 0 } as DemoResult;
    const network = { host: "h", url: "http://h/", http_body_tail: null };
    expect(demoSucceeded(base)).toBe(true);
    expect(demoSucceeded({ ...base, exit_code: 2 })).toBe(false);
    expect(
      demoSucceeded({
        ...base,
        network: { ...network, dns_addresses: [], http_status_line: "HTTP/1.1 200 OK" },
      }),
    ).toBe(false);
    expect(
      demoSucceeded({ ...base, network: { ...network, dns_addresses: ["1.2.3.4"], http_status_line: null } }),
    ).toBe(false);
    expect(
      demoSucceeded({
        ...base,
        network: { ...network, dns_addresses: ["1.2.3.4"], http_status_line: "HTTP/1.1 200 OK" },
      }),
    ).toBe(true);
  });
});
