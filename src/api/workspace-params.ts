import { z } from "zod";
import { printableLine } from "./terminal-text.js";

/** Parameters shared by the workspace operations. */
export const workspaceIdParam = z.string().min(1).describe("Workspace id, as returned by workspace_create.");

export const workspacePathParam = z
  .string()
  .min(1)
  .describe(
    "Path inside /workspace: relative to it, or absolute under it. Paths that leave /workspace are refused.",
  );

export const labelsParam = z
  .record(z.string(), z.string())
  .describe('Labels as key/value pairs, e.g. {"task": "fix-login"}.');

export const snapshotNameParam = z
  .string()
  .min(1)
  .describe("Snapshot name: 1-64 letters, digits, '.', '_' or '-' ('baseline' is the create-time state).");

export const secretEnvParam = z
  .array(z.string().min(1))
  .nullable()
  .default(null)
  .describe("Secrets to pass as environment variables: 'NAME' or 'NAME=ENV_VAR'.");

export const kv = (pairs: Record<string, string | number | boolean | null>): string =>
  Object.entries(pairs)
    .map(([key, value]) => {
      if (value === null) return `${key}=-`;
      const shown = printableLine(String(value));
      return `${key}=${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
    })
    .join(" ");

/** Input of the operations that name only a workspace. */
export const workspaceIdInput = z.object({ workspace_id: workspaceIdParam });
