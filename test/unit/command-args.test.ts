import { describe, expect, it } from "vitest";
import { commandFromArgs } from "../../src/surfaces/cli/command-args.js";
import { snakeKeys } from "../../src/surfaces/sdk/case.js";

describe("CLI command words", () => {
  it("treats one word as a shell command line and several as an argv", () => {
    expect(commandFromArgs(["ls | wc -l"])).toBe("ls | wc -l");
    expect(commandFromArgs(["git", "--version"])).toEqual(["git", "--version"]);
    expect(commandFromArgs([])).toBeUndefined();
  });
});

describe("SDK option names", () => {
  it("maps camelCase options onto the snake_case operation input", () => {
    expect(snakeKeys({ vcpuCount: 2, memMib: 512, allowHostCompat: true, skipped: undefined })).toEqual({
      vcpu_count: 2,
      mem_mib: 512,
      allow_host_compat: true,
    });
  });
});
