import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const HOST = { backend: "host", allowHostCompat: true } as const;

// Names a guest can give files to act on the terminal of whoever lists them: set the window title
// (OSC … BEL), clear the screen (CSI 2J), an 8-bit CSI (C1 U+009B) and a newline that forges a line.
const NAMES = [
  "title-\\033]0;pwned\\007",
  "clear-\\033[2J",
  "c1-\\302\\2332J",
  "line\\nfile        0  forged.txt",
];
// Terminal-active bytes: C0 but newline, DEL, and C1 as UTF-8 (U+0080–U+009F).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("guest-chosen names printed on the user's terminal", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let id: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    scratch = mkdtempSync("/tmp/pyro-hterm-");
    id = (await pyro.createWorkspace(HOST)).workspace_id;
    const script = NAMES.map((name) => `touch "$(printf '${name}')"`).join("; ");
    const made = await pyro.execWorkspace({
      workspaceId: id,
      command: `${script}; ln -s "$(printf '/etc/\\033]0;link\\007')" escaping-link`,
    });
    expect(made.exit_code, made.stderr).toBe(0);
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("file list, diff and export print every control character escaped, and no forged line", async () => {
    const listed = await runPyro(["workspace", "file", "list", id]);
    const diffed = await runPyro(["workspace", "diff", id]);
    const exported = await runPyro(["workspace", "export", id, ".", "--output", join(scratch, "out")]);
    for (const result of [listed, diffed, exported]) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(ACTIVE);
      expect(result.stderr).not.toMatch(ACTIVE);
    }
    expect(listed.stdout).toContain("title-\\x1b]0;pwned\\x07");
    expect(listed.stdout).toContain("c1-\\x9b2J");
    expect(listed.stdout).toContain("line\\x0afile");
    // One line per entry: four files and the link, nothing forged by the newline in a name.
    expect(listed.stdout.trimEnd().split("\n")).toHaveLength(NAMES.length + 1);
    expect(exported.stdout).toContain("skipped ./escaping-link: its target");
  });

  it("an error quoting a guest-chosen path shows it escaped", async () => {
    const missing = await runPyro(["workspace", "file", "read", id, "gone-\u001b]0;pwned\u0007"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("error [");
    expect(missing.stderr).not.toMatch(ACTIVE);
    expect(missing.stderr).toContain("\\x1b]0;pwned\\x07");
  });

  it("leaves nothing running", async () => {
    await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
  });
});
