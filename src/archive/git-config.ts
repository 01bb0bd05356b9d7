/**
 * A reader and writer for git's config file syntax (git-config(1), "CONFIGURATION FILE"), used to
 * rewrite a guest-written repository config keeping only keys that cannot run anything.
 * The reader is linear in the input; anything it does not understand makes it give up (null),
 * and the caller then replaces the whole file.
 */

export interface GitConfigEntry {
  /** Lower-cased section name, e.g. "remote". */
  section: string;
  /** Subsection as written ("origin"), or null. */
  subsection: string | null;
  /** Lower-cased variable name, e.g. "url". */
  name: string;
  /** The value, or null for a bare name (boolean true). */
  value: string | null;
}

const SECTION_CHAR = /[A-Za-z0-9.-]/;
const NAME_START = /[A-Za-z]/;
const NAME_CHAR = /[A-Za-z0-9-]/;
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", b: "\b", "\\": "\\", '"': '"' };

/** Every variable of a config file in order, or null when the text is not valid config syntax. */
export function parseGitConfig(text: string): GitConfigEntry[] | null {
  const entries: GitConfigEntry[] = [];
  let section: { name: string; subsection: string | null } | null = null;
  let at = text.startsWith("\uFEFF") ? 1 : 0;
  const skipBlanks = (): void => {
    while (at < text.length && (text[at] === " " || text[at] === "\t" || text[at] === "\r")) at++;
  };
  const skipComment = (): void => {
    while (at < text.length && text[at] !== "\n") at++;
  };
  while (at < text.length) {
    skipBlanks();
    const char = text[at] as string;
    if (at >= text.length || char === "\n") {
      at++;
    } else if (char === "#" || char === ";") {
      skipComment();
    } else if (char === "[") {
      at++;
      const header = readSectionHeader();
      if (header === null) return null;
      section = header;
    } else if (NAME_START.test(char)) {
      if (section === null) return null;
      const start = at;
      while (at < text.length && NAME_CHAR.test(text[at] as string)) at++;
      const name = text.slice(start, at).toLowerCase();
      skipBlanks();
      let value: string | null = null;
      if (text[at] === "=") {
        at++;
        value = readValue();
        if (value === null) return null;
      } else if (at < text.length && text[at] !== "\n" && text[at] !== "#" && text[at] !== ";") {
        return null;
      }
      entries.push({ section: section.name, subsection: section.subsection, name, value });
    } else {
      return null;
    }
  }
  return entries;

  function readSectionHeader(): { name: string; subsection: string | null } | null {
    const start = at;
    while (at < text.length && SECTION_CHAR.test(text[at] as string)) at++;
    const name = text.slice(start, at);
    if (name === "") return null;
    if (text[at] === "]") {
      at++;
      // The deprecated [section.subsection] form: the subsection is case-insensitive.
      const dot = name.indexOf(".");
      if (dot === -1) return { name: name.toLowerCase(), subsection: null };
      return { name: name.slice(0, dot).toLowerCase(), subsection: name.slice(dot + 1).toLowerCase() };
    }
    if (text[at] !== " " && text[at] !== "\t") return null;
    skipBlanks();
    if (text[at] !== '"') return null;
    at++;
    let subsection = "";
    for (;;) {
      const c = text[at++];
      if (c === undefined || c === "\n" || c === "\0") return null;
      if (c === '"') break;
      if (c === "\\") {
        const next = text[at++];
        if (next === undefined || next === "\n") return null;
        subsection += next;
      } else subsection += c;
    }
    if (text[at] !== "]") return null;
    at++;
    return { name: name.toLowerCase(), subsection };
  }

  function readValue(): string | null {
    let value = "";
    let quoted = false;
    // Unquoted trailing blanks are dropped; `kept` is the length that ends in a non-blank.
    let kept = 0;
    let started = false;
    while (at < text.length) {
      const c = text[at++] as string;
      if (c === "\n") {
        if (quoted) return null;
        break;
      }
      if (!quoted && (c === "#" || c === ";")) {
        skipComment();
        break;
      }
      if (!quoted && (c === " " || c === "\t" || c === "\r")) {
        if (started) value += c === "\r" ? "" : c;
        continue;
      }
      started = true;
      if (c === '"') {
        quoted = !quoted;
        kept = value.length;
        continue;
      }
      if (c === "\\") {
        const next = text[at++];
        if (next === "\n") continue; // line continuation
        if (next === "\r" && text[at] === "\n") {
          at++;
          continue;
        }
        const escaped = next === undefined ? undefined : ESCAPES[next];
        if (escaped === undefined) return null;
        value += escaped;
      } else {
        value += c;
      }
      kept = value.length;
    }
    if (quoted) return null;
    return value.slice(0, kept);
  }
}

/** Writes entries back as config text; sections are repeated as needed to keep the order. */
export function formatGitConfig(entries: readonly GitConfigEntry[], preamble: readonly string[]): string {
  const lines = preamble.map((line) => `# ${showControls(line)}`);
  let current: string | null = null;
  for (const entry of entries) {
    const header =
      entry.subsection === null ? `[${entry.section}]` : `[${entry.section} ${quote(entry.subsection)}]`;
    if (header !== current) lines.push(header);
    current = header;
    lines.push(entry.value === null ? `\t${entry.name}` : `\t${entry.name} = ${quote(entry.value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** True when `formatGitConfig` can write the entry so that git reads back exactly the same. */
export function writableEntry(entry: GitConfigEntry): boolean {
  // Subsections cannot hold escapes for control characters; values can hold \n, \t and \b.
  return (
    (entry.subsection === null || !hasControl(entry.subsection, "\t")) &&
    (entry.value === null || !hasControl(entry.value, "\t\n\b"))
  );
}

function quote(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t")
    .replaceAll("\b", "\\b");
  return `"${escaped}"`;
}

/** `section.subsection.name` for reports, with control characters shown as `?`. */
export function entryKey(entry: GitConfigEntry): string {
  const key =
    entry.subsection === null
      ? `${entry.section}.${entry.name}`
      : `${entry.section}.${entry.subsection}.${entry.name}`;
  const shown = showControls(key);
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}

function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

function hasControl(text: string, allowed: string): boolean {
  for (const char of text) if (isControl(char) && !allowed.includes(char)) return true;
  return false;
}

/** The text with every control character shown as `?` (for one-line reports). */
export function showControls(text: string): string {
  let shown = "";
  for (const char of text) shown += isControl(char) ? "?" : char;
  return shown;
}
