import { describe, expect, it } from "vitest";
import type { PyroError } from "../../src/errors/index.js";
import { resolveWorkspacePath, workspaceAbsolutePath } from "../../src/sandbox/workspace/paths.js";

function codeOf(input: string): string {
  try {
    resolveWorkspacePath(input);
  } catch (error) {
    return (error as PyroError).code;
  }
  return "accepted";
}

describe("resolveWorkspacePath", () => {
  it.each([
    [".", "."],
    ["./", "."],
    ["/workspace", "."],
    ["/workspace/", "."],
    ["src/app.py", "src/app.py"],
    ["./src//app.py", "src/app.py"],
    ["/workspace/src/../lib/x.ts", "lib/x.ts"],
    ["a/b/../../c", "c"],
    ["dir/", "dir"],
    ["-rf", "-rf"],
    ["name with spaces/and\nnewline", "name with spaces/and\nnewline"],
    ["..foo", "..foo"],
  ])("accepts %j as %j", (input, expected) => {
    expect(resolveWorkspacePath(input)).toBe(expected);
  });

  it.each([
    "..",
    "../..",
    "../x",
    "a/../../b",
    "/etc/passwd",
    "/workspace/../etc",
    "/",
    "/workspacex/a",
    "/tmp",
  ])("refuses %j as outside the workspace", (input) => {
    expect(codeOf(input)).toBe("PATH_OUTSIDE_WORKSPACE");
  });

  it("refuses empty paths, NUL bytes and over-long paths", () => {
    expect(codeOf("")).toBe("INVALID_ARGUMENT");
    expect(codeOf("a\0b")).toBe("INVALID_ARGUMENT");
    expect(codeOf("a".repeat(4097))).toBe("INVALID_ARGUMENT");
    expect(codeOf("a".repeat(4096))).toBe("accepted");
  });
});

describe("path forms", () => {
  it("shows the absolute guest form", () => {
    expect(workspaceAbsolutePath(".")).toBe("/workspace");
    expect(workspaceAbsolutePath("src/a")).toBe("/workspace/src/a");
  });
});
