import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 0 } } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "guest",
          include: ["test/guest/**/*.test.ts"],
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Guest boots are CPU-bound under TCG: at most 2 test files at once, each booting one VM at a time.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The guest as an attacker: each case attacks one boundary and checks the host is unchanged.
          name: "hostile",
          include: ["test/hostile/**/*.test.ts"],
          sequence: { groupOrder: 3 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});
