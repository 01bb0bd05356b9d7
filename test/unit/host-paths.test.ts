import { describe, expect, it } from "vitest";
import { inputSchemaOf } from "../../src/api/input-schema.js";
import { OPERATIONS } from "../../src/api/specs/index.js";

// Any parameter that names a host path must be declared, or the MCP server would not confine it.
const HOST_PATH_WORDS = /\bhost (file|path|directory|folder)|^host\b/i;

describe("host path parameters", () => {
  it("are declared by every operation that takes one", () => {
    const undeclared: string[] = [];
    for (const operation of OPERATIONS) {
      for (const [key, schema] of Object.entries(inputSchemaOf(operation).shape)) {
        const description = (schema as { description?: string }).description ?? "";
        if (HOST_PATH_WORDS.test(description) && operation.hostPaths?.[key] === undefined)
          undeclared.push(`${operation.name}.${key}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("cover every known host path parameter", () => {
    const declared = OPERATIONS.flatMap((operation) =>
      Object.keys(operation.hostPaths ?? {}).map((key) => `${operation.name}.${key}`),
    ).sort();
    expect(declared).toEqual([
      "workspace_create.secret_files",
      "workspace_create.seed_path",
      "workspace_disk_export.output_path",
      "workspace_export.output_path",
      "workspace_file_write.text_file",
      "workspace_sync_push.source_path",
    ]);
  });
});
