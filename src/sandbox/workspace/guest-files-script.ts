import { PyroError } from "../../errors/index.js";
import type { ExecOutcome } from "../vm-exec.js";
import { workspaceAbsolutePath } from "./paths.js";

/**
 * Exit codes of the guest scripts below; distinct from what the tools they call return (1, 2, 126,
 * 127), so a failing `cat` can never be mistaken for a refusal.
 */
export const GuestStatus = {
  OUTSIDE: 64,
  MISSING: 66,
  IS_DIRECTORY: 67,
  NOT_REGULAR: 68,
  PARENT_NOT_DIRECTORY: 69,
} as const;

/**
 * Shell prelude (dash) shared by every file script. `confine P` sets $t to the real path of P,
 * following every symlink (also dangling ones, via -m), and fails with OUTSIDE unless it is the
 * working directory's real path or lies below it. The scripts never name /workspace: the host-compat
 * backend maps only the working directory. `echo x` keeps trailing newlines of odd names.
 */
export const CONFINE_PRELUDE = `
root=$(pwd -P) || exit 70
confine() {
  t=$(realpath -m -- "$1" && echo x) || exit ${GuestStatus.OUTSIDE}
  t=\${t%??}
  case "$t" in "$root"|"$root"/*) ;; *) exit ${GuestStatus.OUTSIDE};; esac
}
`;

/** argv running `script` under sh with the given positional parameters ($1, $2, …). */
export function shellArgv(script: string, args: string[]): string[] {
  return ["sh", "-c", `${CONFINE_PRELUDE}${script}`, "sh", ...args];
}

const MAX_STDERR_IN_MESSAGE = 500;

/** Maps a file script's non-zero exit to the matching PyroError; `relative` names the path. */
export function guestFileError(outcome: ExecOutcome, relative: string, action: string): PyroError {
  const shown = workspaceAbsolutePath(relative);
  const details = { path: shown, exit_code: outcome.exit_code };
  switch (outcome.timed_out ? -1 : outcome.exit_code) {
    case GuestStatus.OUTSIDE:
      return new PyroError(
        "PATH_OUTSIDE_WORKSPACE",
        `${shown} resolves outside /workspace through a symlink`,
        {
          details,
        },
      );
    case GuestStatus.MISSING:
      return new PyroError("FILE_NOT_FOUND", `${shown} does not exist`, { details });
    case GuestStatus.IS_DIRECTORY:
      return new PyroError("INVALID_ARGUMENT", `${shown} is a directory`, { details });
    case GuestStatus.NOT_REGULAR:
      return new PyroError("INVALID_ARGUMENT", `${shown} is not a regular file`, { details });
    case GuestStatus.PARENT_NOT_DIRECTORY:
      return new PyroError("INVALID_ARGUMENT", `a parent of ${shown} is a file, not a directory`, {
        details,
      });
    default: {
      // The guest's stderr is untrusted: show a bounded, single-line excerpt.
      const excerpt = outcome.stderr.slice(0, MAX_STDERR_IN_MESSAGE).replace(/\s+/g, " ").trim();
      const reason = outcome.timed_out ? "timed out" : `failed (exit ${outcome.exit_code})`;
      return new PyroError("EXEC_FAILED", `${action} ${shown} ${reason}${excerpt ? `: ${excerpt}` : ""}`, {
        details,
      });
    }
  }
}
