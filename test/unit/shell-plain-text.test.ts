import { describe, expect, it } from "vitest";
import { renderPlain } from "../../src/terminal/plain-text.js";

const size = { cols: 80, rows: 24 };

describe("renderPlain", () => {
  it("returns an empty string for empty input", async () => {
    expect(await renderPlain("", size)).toBe("");
    expect(await renderPlain(Buffer.alloc(0), size)).toBe("");
  });

  it("applies carriage-return overwrite to a progress bar", async () => {
    expect(await renderPlain("[#   ] 25%\r[##  ] 50%\r[####] 100%\r\n", size)).toBe("[####] 100%");
    expect(await renderPlain("50%\r100%", size)).toBe("100%");
    // A shorter redraw leaves the tail of the longer one, as on a real terminal.
    expect(await renderPlain("100%\r50%", size)).toBe("50%%");
  });

  it("applies backspace by moving the cursor left so the next character overwrites", async () => {
    expect(await renderPlain("abc\b\bX", size)).toBe("aXc");
    expect(await renderPlain("abc\b \b", size)).toBe("ab");
  });

  it("removes SGR colours from ls --color style output", async () => {
    const ls = "\x1b[0m\x1b[01;34mdir\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  notes.txt\r\n";
    expect(await renderPlain(ls, size)).toBe("dir  run.sh  notes.txt");
  });

  it("removes OSC titles and bracketed-paste toggles from a prompt", async () => {
    const prompt =
      "\x1b[?2004l\r\x1b]0;root@pyro: /workspace\x07\x1b[?2004h\x1b[01;32mroot@pyro\x1b[00m:\x1b[01;34m/workspace\x1b[00m# ";
    expect(await renderPlain(prompt, size)).toBe("root@pyro:/workspace#");
    expect(await renderPlain("\x1b]0;root@pyro: /workspace\x07\x1b[?2004hroot@pyro:/workspace# ", size)).toBe(
      "root@pyro:/workspace#",
    );
  });

  it("applies erase-in-line", async () => {
    expect(await renderPlain("downloading file.tar.gz\r\x1b[Kdone\r\n", size)).toBe("done");
    expect(await renderPlain("abcdef\x1b[3D\x1b[K", size)).toBe("abc");
  });

  it("applies cursor-up redraws", async () => {
    const redraw = "step 1: pending\r\nstep 2: pending\r\n\x1b[2A\x1b[Kstep 1: ok\r\n\x1b[Kstep 2: ok\r\n";
    expect(await renderPlain(redraw, size)).toBe("step 1: ok\nstep 2: ok");
  });

  it("keeps plain top -b output as it is", async () => {
    const top =
      "top - 10:00:00 up 1 min,  0 users,  load average: 0.00, 0.00, 0.00\r\n" +
      "Tasks:   5 total,   1 running,   4 sleeping,   0 stopped,   0 zombie\r\n" +
      "\r\n" +
      "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\r\n" +
      "      1 root      20   0    2300   1200    900 S   0.0   0.1   0:00.10 init\r\n";
    expect(await renderPlain(top, size)).toBe(top.replace(/\r\n/g, "\n").trimEnd());
  });

  it("shows the final screen after a clear-screen redraw like interactive top", async () => {
    const frame = (load: string) =>
      `\x1b[H\x1b[2J\x1b[1mtop - 10:00:0${load} up 1 min\x1b[m\x1b[K\r\n\x1b[7m    PID USER      COMMAND\x1b[m\x1b[K\r\n      1 root      init\x1b[K`;
    const text = await renderPlain(frame("1") + frame("2") + frame("3"), size);
    expect(text).toBe("top - 10:00:03 up 1 min\n    PID USER      COMMAND\n      1 root      init");
  });

  it("shows a full-screen program that is still running after the text before it", async () => {
    const session = "$ top\r\n\x1b[?1049h\x1b[H\x1b[2Jtop - 10:00:01 up 1 min\r\n      1 root      init";
    expect(await renderPlain(session, size)).toBe("$ top\ntop - 10:00:01 up 1 min\n      1 root      init");
    const exited = `${session}\x1b[?1049l\r\n$ `;
    expect(await renderPlain(exited, size)).toBe("$ top\n\n$");
  });

  it("returns a line longer than the terminal width as one line", async () => {
    const long = "x".repeat(25) + " " + "y".repeat(30);
    expect(await renderPlain(`${long}\r\nnext\r\n`, { cols: 10, rows: 5 })).toBe(`${long}\nnext`);
    // A space that lands exactly at the wrap column is kept.
    expect(await renderPlain("abcdefghi jklmno", { cols: 10, rows: 5 })).toBe("abcdefghi jklmno");
  });

  it("converts CRLF newlines and keeps blank lines between text", async () => {
    expect(await renderPlain("a\r\nb\r\n", size)).toBe("a\nb");
    expect(await renderPlain("a\r\n\r\nb\r\n\r\n\r\n", size)).toBe("a\n\nb");
  });

  it("decodes UTF-8 from a Buffer, including wide characters", async () => {
    const bytes = Buffer.from("héllo wörld ✓\r\n日本語\r\n", "utf8");
    expect(await renderPlain(bytes, size)).toBe("héllo wörld ✓\n日本語");
    expect(await renderPlain(Buffer.from("ab日本", "utf8"), { cols: 3, rows: 2 })).toBe("ab日本");
  });

  it("keeps every line of output taller than the screen", async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    expect(await renderPlain(`${lines.join("\r\n")}\r\n`, { cols: 20, rows: 5 })).toBe(lines.join("\n"));
  });

  it("keeps lines joined and complete across output much larger than the screen", async () => {
    // Over 16 KB, so lines that scroll off are collected part-way through; at 7x3 every line straddles rows.
    const lines = Array.from(
      { length: 2000 },
      (_, i) => `line ${String(i).padStart(4, "0")} ${"w".repeat(12)}`,
    );
    expect(await renderPlain(`${lines.join("\r\n")}\r\n`, { cols: 7, rows: 3 })).toBe(lines.join("\n"));
  });

  it("forgets the scrollback when the program erases it, as clear does", async () => {
    const before = "old output\r\n".repeat(3000);
    expect(await renderPlain(`${before}\x1b[H\x1b[2J\x1b[3Jnew output\r\n`, size)).toBe("new output");
    // In the alternate screen the same sequence has no scrollback to erase.
    const session = `${before}\x1b[?1049h\x1b[3J\x1b[?1049ldone\r\n`;
    expect(await renderPlain(session, size)).toBe(`${before.replace(/\r\n/g, "\n")}done`);
  });

  it("renders a megabyte of coloured output quickly", async () => {
    const line = "\x1b[32mok\x1b[0m " + "z".repeat(60) + "\r\n";
    const chunk = Buffer.from(line.repeat(Math.ceil(1_000_000 / line.length)));
    const started = performance.now();
    const text = await renderPlain(chunk, { cols: 120, rows: 30 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(text.split("\n")).toHaveLength(Math.ceil(1_000_000 / line.length));
    expect(text.endsWith(`ok ${"z".repeat(60)}`)).toBe(true);
  });

  it("rejects a terminal size that is not a positive integer", async () => {
    await expect(renderPlain("a", { cols: 0, rows: 24 })).rejects.toThrow(RangeError);
    await expect(renderPlain("a", { cols: 80, rows: 1.5 })).rejects.toThrow(RangeError);
  });
});
