import { CompiledSecrets, maskBytes } from "../secrets/masker.js";
import { maskableSecrets } from "../sandbox/workspace/secrets.js";
import type { SandboxStore } from "../sandbox/store.js";
import type { FileContent } from "./file-content-render.js";

/**
 * File bytes as a result: UTF-8 text when they are text, base64 otherwise (said in `encoding`).
 * Secret values are masked in the bytes, before any encoding; a read cut short drops a trailing
 * partial value rather than showing its start.
 */
export function fileContent(
  store: SandboxStore,
  file: {
    workspace_id: string;
    path: string;
    size: number;
    truncated: boolean;
    content: Buffer;
  },
): FileContent {
  const secrets = CompiledSecrets.of(maskableSecrets(store, file.workspace_id));
  const content = maskBytes(file.content, secrets, file.truncated);
  const text = content.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(content) && !content.includes(0);
  return {
    workspace_id: file.workspace_id,
    path: file.path,
    size: file.size,
    truncated: file.truncated,
    encoding: isText ? "utf8" : "base64",
    content: isText ? text : content.toString("base64"),
  };
}
