import { PyroError } from "../../errors/index.js";
import { FileOpError } from "../../agent-protocol/file-ops.js";
import { workspaceAbsolutePath } from "./paths.js";

/**
 * Maps a refused guest file operation onto the catalog; `relative` names the path. The agent's
 * code is trusted only as a key; its text is already bounded to one line (file-ops.ts).
 */
export function guestFileError(error: unknown, relative: string, action: string): unknown {
  if (!(error instanceof FileOpError)) return error;
  const shown = workspaceAbsolutePath(relative);
  const details = { path: shown, agent_code: error.code };
  switch (error.code) {
    case "OUTSIDE_ROOT":
      return new PyroError(
        "PATH_OUTSIDE_WORKSPACE",
        `${shown} resolves outside /workspace through a symlink`,
        {
          details,
        },
      );
    case "NOT_FOUND":
      return new PyroError("FILE_NOT_FOUND", `${shown} does not exist`, { details });
    case "IS_DIRECTORY":
      return new PyroError("INVALID_ARGUMENT", `${shown} is a directory`, { details });
    case "NOT_REGULAR":
      return new PyroError("INVALID_ARGUMENT", `${shown} is not a regular file`, { details });
    case "NOT_DIRECTORY":
      return new PyroError("INVALID_ARGUMENT", `a parent of ${shown} is a file, not a directory`, {
        details,
      });
    default:
      return new PyroError("EXEC_FAILED", `${action} ${shown} failed: ${error.code}: ${error.message}`, {
        details,
      });
  }
}
