import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RECIPES } from "../../smoke/recipes.mjs";
import { USE_CASES_PAGE, renderUseCases } from "../../scripts/use-cases.mjs";

describe("docs/use-cases.md", () => {
  it("is what scripts/use-cases.mjs writes from the smoke pack's recipes", async () => {
    // Stale? Run `node scripts/use-cases.mjs`.
    expect(readFileSync(USE_CASES_PAGE, "utf8")).toBe(await renderUseCases());
  });

  it("leads with repro-fix-loop and covers the five product recipes", () => {
    expect(RECIPES.map((r) => r.id)).toEqual([
      "repro-fix-loop",
      "cold-start-validation",
      "test-loop-snapshots",
      "app-start-published-port",
      "parallel-evaluations",
    ]);
    const tools = RECIPES[0]?.steps.flatMap((s) => ("tool" in s ? [s.tool] : []));
    for (const tool of ["snapshot_create", "workspace_reset", "workspace_diff", "workspace_export"])
      expect(tools).toContain(tool);
  });
});
