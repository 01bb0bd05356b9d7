import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toPyroError } from "../../errors/index.js";

/** A successful tool call: readable text plus the structured result. */
export function toolSuccess(text: string, output: unknown): CallToolResult {
  return {
    content: [{ type: "text", text }],
    structuredContent: output as Record<string, unknown>,
  };
}

/** A failed tool call: the stable code, the hint and the docs link in the text and in structured content. */
export function toolError(error: unknown): CallToolResult {
  const pyroError = toPyroError(error);
  return {
    isError: true,
    content: [
      {
        type: "text",
        text: `${pyroError.code}: ${pyroError.message}\nhint: ${pyroError.hint}\ndocs: ${pyroError.docs}`,
      },
    ],
    structuredContent: { error: pyroError.toJSON() },
  };
}
