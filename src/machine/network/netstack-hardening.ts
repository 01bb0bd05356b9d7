import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { MachineCheck } from "../types.js";
import { nativePartFix } from "../../platform/install-kind.js";

const NOBODY = "65534";
const run = promisify(execFile);

/**
 * What `pyro-netstack --hardening-report` says is in force once it has hardened itself exactly as
 * it does for a VM: one doctor check per protection, as the kernel reports it.
 */
export async function netstackHardeningChecks(helper: string | null): Promise<MachineCheck[]> {
  if (helper === null) return [];
  let report: string;
  try {
    ({ stdout: report } = await run(helper, ["--hardening-report"], { timeout: 5000, encoding: "utf8" }));
  } catch (error) {
    return [
      {
        name: "netstack hardening",
        status: "FAIL",
        detail: `pyro-netstack --hardening-report failed: ${(error as Error).message.split("\n")[0]}`,
        fix: nativePartFix("netstack"),
      },
    ];
  }
  const field = new Map(
    report
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)] as const),
  );
  const check = (name: string, ok: boolean, detail: string, fix: string): MachineCheck =>
    ok
      ? { name, status: "PASS", detail, fix: null }
      : { name, status: "FAIL", detail, fix: `${fix} ${nativePartFix("netstack")}` };
  const root = process.getuid?.() === 0;
  const uid = field.get("uid") ?? "?";
  return [
    check(
      "netstack frame filter",
      field.get("frame_filter")?.startsWith("on") === true,
      field.get("frame_filter") ?? "not reported",
      "Guests could reach host-local addresses.",
    ),
    check(
      "netstack seccomp",
      field.get("seccomp") === "filter",
      `seccomp ${field.get("seccomp") ?? "not reported"}, no_new_privs ${field.get("no_new_privs") ?? "?"}`,
      "The helper would run without its system call filter.",
    ),
    check(
      "netstack parent death",
      field.get("parent_death_signal") === "SIGKILL",
      `dies with its supervisor (signal ${field.get("parent_death_signal") ?? "?"})`,
      "The helper could outlive its supervisor.",
    ),
    check(
      "netstack user",
      !root || uid === NOBODY,
      root ? `runs as uid ${uid} (dropped from root)` : `runs as uid ${uid} (pyro is not root)`,
      "The helper would keep root.",
    ),
  ];
}
