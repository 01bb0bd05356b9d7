/** A value a result must have: equal, containing a text, or an array with a matching element. */
export type Expected =
  string | number | boolean | null | Expected[] | { contains: string } | { some: Record<string, unknown> };

export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  /** Dotted paths of the structured content and the values they must match. */
  expect?: Record<string, Expected>;
  /** Names for values of the result, usable as "{{name}}" in later steps. */
  save?: Record<string, string>;
}

export type Step =
  | ({ say: string } & ToolCall)
  | { say: string; parallel: ToolCall[] }
  | {
      say: string;
      host: "http_get" | "apply_patch";
      args: Record<string, string>;
      expect?: Record<string, Expected>;
    };

export interface Recipe {
  id: string;
  title: string;
  summary: string;
  profile: "vm-run" | "workspace-core" | "workspace-full";
  /** Files written under the folder the MCP server starts in. */
  files: Record<string, string>;
  /** A folder of `files` made into a git repository with one commit. */
  git?: string;
  /** Needs a network policy: the smoke pack runs it inside a private network namespace lab. */
  network?: boolean;
  steps: Step[];
}

export const RECIPES: Recipe[];
