import { kv } from "./workspace-params.js";

export interface FileContent {
  workspace_id: string;
  path: string;
  size: number;
  truncated: boolean;
  encoding: "utf8" | "base64";
  content: string;
}

export function renderFileContent(output: FileContent, scope: string): string {
  const body = output.encoding === "utf8" ? output.content : `(binary, base64)\n${output.content}`;
  return `${body}\n[${scope}] ${kv({ path: output.path, size: output.size, truncated: output.truncated })}`;
}
