import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { invokeOperation } from "../../src/api/invoke.js";
import { vmExec, vmRun } from "../../src/api/specs/vm.js";
import type { AnyOperation } from "../../src/api/types.js";
import { SandboxStore } from "../../src/api/store.js";

async function rejectionOf(
  input: Record<string, unknown>,
  operation: AnyOperation = vmRun,
): Promise<PyroError> {
  try {
    await invokeOperation(operation, input, { store: new SandboxStore() });
  } catch (error) {
    return error as PyroError;
  }
  throw new Error("expected a rejection");
}

describe("input limits (validated before anything starts)", () => {
  it.each([
    [{ vcpu_count: 0 }, "vcpu_count"],
    [{ vcpu_count: -2 }, "vcpu_count"],
    [{ vcpu_count: 100000 }, "vcpu_count"],
    [{ vcpu_count: 1.5 }, "vcpu_count"],
    [{ mem_mib: 0 }, "mem_mib"],
    [{ mem_mib: -512 }, "mem_mib"],
    [{ mem_mib: 1_000_000_000 }, "mem_mib"],
    [{ timeout_seconds: 0 }, "timeout_seconds"],
    [{ ttl_seconds: -1 }, "ttl_seconds"],
  ])("rejects %j", async (bad, field) => {
    const error = await rejectionOf({ environment: "debian:12", command: "true", ...bad });
    expect(error).toBeInstanceOf(PyroError);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(field);
  });

  it("rejects a missing or empty command with a clear message", async () => {
    // vm_run may leave it out only for an image with Entrypoint/Cmd; debian:12 has none.
    const missing = await rejectionOf({ environment: "debian:12" });
    expect(missing.code).toBe("INVALID_ARGUMENT");
    expect(missing.message).toBe(
      "no command given, and debian:12 has no image Entrypoint or Cmd to run instead",
    );
    expect(missing.hint).toContain("pyro run debian:12 -- CMD");
    expect((await rejectionOf({ vm_id: "vm-x" }, vmExec)).message).toContain("command is required");
    expect((await rejectionOf({ environment: "debian:12", command: [] })).code).toBe("INVALID_ARGUMENT");
    expect((await rejectionOf({ environment: "debian:12", command: "" })).code).toBe("INVALID_ARGUMENT");
  });

  it("rejects an unknown environment with the catalog in the hint", async () => {
    const error = await rejectionOf({ environment: "ubuntu:99", command: "true" });
    expect(error.code).toBe("ENVIRONMENT_UNKNOWN");
    expect(error.hint).toContain("debian:12-build");
  });
});
