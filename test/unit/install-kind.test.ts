import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  installKind,
  installKindOf,
  nativePartFix,
  nativePartMissing,
} from "../../src/platform/install-kind.js";

const CHECKOUT = fileURLToPath(new URL("../..", import.meta.url));

describe("install kind and the fixes it words", () => {
  const dir = mkdtempSync(join(tmpdir(), "pyro-kind-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a package root with sources or git metadata is a checkout; an npm install has neither", () => {
    expect(installKindOf(CHECKOUT)).toBe("checkout");
    expect(installKind()).toBe("checkout");
    const installed = join(dir, "node_modules", "pyro-mcp");
    mkdirSync(join(installed, "dist"), { recursive: true });
    writeFileSync(join(installed, "package.json"), '{"name":"pyro-mcp"}');
    expect(installKindOf(installed)).toBe("package");
    writeFileSync(join(installed, ".git"), "gitdir: elsewhere\n"); // a git worktree
    expect(installKindOf(installed)).toBe("checkout");
  });

  it("a checkout builds; an installed user reinstalls and is never told to build", () => {
    expect(nativePartFix("netstack", "checkout")).toContain("sudo apt install libslirp-dev libseccomp-dev");
    expect(nativePartFix("netstack", "checkout")).toContain("npm run build");
    expect(nativePartFix("agent", "checkout")).toContain("npm run build:agent");
    for (const part of ["agent", "netstack"] as const) {
      const fix = nativePartFix(part, "package");
      expect(fix).toMatch(/npm install pyro-mcp@\d+\.\d+\.\d+/);
      expect(fix).not.toContain("npm run");
      expect(fix).not.toContain("-dev");
    }
    expect(nativePartFix("netstack", "package")).toContain("glibc 2.34");
    expect(nativePartMissing("netstack", "checkout")).toBe("pyro-netstack is not built");
    expect(nativePartMissing("agent", "package")).toBe(
      "the guest agent is missing from this installed package",
    );
  });
});
