import type { GitConfigEntry } from "./git-config.js";

/**
 * The repository-config keys an export keeps. Everything else is removed: git has many keys that
 * run a program (core.fsmonitor, core.hooksPath, core.sshCommand, core.editor, core.pager,
 * core.askPass, core.gitProxy, core.alternateRefsCommand, pager.*, alias.*, filter.*,
 * diff.external, diff.*.textconv/command, merge.*.driver, mergetool.*, difftool.*, credential.*,
 * sequence.editor, interactive.diffFilter, gpg.program, gpg.*.program, remote.*.uploadpack,
 * remote.*.receivepack, remote.*.vcs, submodule.*.update, trailer.*.command/cmd, tar.*.command,
 * sendemail.*, imap.tunnel, browser.*, man.*, guitool.*, uploadpack.packObjectsHook, lfs.*, …),
 * read or write files the guest chose (include.path, includeIf.*.path, core.worktree,
 * core.attributesFile, core.excludesFile) or loosen protocols (protocol.*). New git versions add
 * more, so this is a list of what is known to be inert rather than of what is known to be harmful.
 */
const SECTION_KEYS: Readonly<Record<string, { subsection: boolean; names: ReadonlySet<string> }>> = {
  core: {
    subsection: false,
    names: new Set([
      "repositoryformatversion",
      "filemode",
      "bare",
      "logallrefupdates",
      "ignorecase",
      "precomposeunicode",
      "symlinks",
      "autocrlf",
      "eol",
      "safecrlf",
      "checkstat",
      "trustctime",
      "quotepath",
      "sparsecheckout",
      "sparsecheckoutcone",
      "abbrev",
      "compression",
      "splitindex",
      "untrackedcache",
      "commentchar",
      "multipackindex",
      "commitgraph",
    ]),
  },
  // objectFormat and friends: without them a SHA-256 or reftable repository cannot be read.
  extensions: {
    subsection: false,
    names: new Set(["objectformat", "compatobjectformat", "worktreeconfig", "refstorage", "noop"]),
  },
  remote: {
    subsection: true,
    names: new Set([
      "url",
      "pushurl",
      "fetch",
      "push",
      "mirror",
      "tagopt",
      "prune",
      "prunetags",
      "skipdefaultupdate",
      "skipfetchall",
    ]),
  },
  branch: { subsection: true, names: new Set(["remote", "merge", "rebase", "pushremote", "description"]) },
  submodule: { subsection: true, names: new Set(["url", "active", "branch", "ignore"]) },
  user: { subsection: false, names: new Set(["name", "email"]) },
  init: { subsection: false, names: new Set(["defaultbranch"]) },
  pull: { subsection: false, names: new Set(["rebase", "ff"]) },
  push: { subsection: false, names: new Set(["default", "autosetupremote"]) },
  fetch: { subsection: false, names: new Set(["prune", "prunetags"]) },
  merge: { subsection: false, names: new Set(["ff", "conflictstyle"]) },
  i18n: { subsection: false, names: new Set(["commitencoding", "logoutputencoding"]) },
};

/** True when git never runs a program, nor reads a guest-chosen file, because of this key. */
export function inertGitConfigEntry(entry: GitConfigEntry): boolean {
  const section = Object.hasOwn(SECTION_KEYS, entry.section) ? SECTION_KEYS[entry.section] : undefined;
  if (section === undefined) return false;
  if ((entry.subsection !== null) !== section.subsection) return false;
  return section.names.has(entry.name);
}
