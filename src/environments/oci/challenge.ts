/** One WWW-Authenticate challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface Challenge {
  scheme: "bearer" | "basic";
  params: Record<string, string>;
}

/**
 * The first Bearer or Basic challenge of a WWW-Authenticate header (RFC 7235: a scheme, then
 * comma-separated name=value pairs whose values may be quoted strings with backslash escapes).
 */
export function parseChallenge(headerValue: string | undefined): Challenge | null {
  if (!headerValue || headerValue.length > 8192) return null;
  const text = headerValue;
  let at = 0;
  let current: Challenge | null = null;
  const found: Challenge[] = [];
  const skipSpace = (): void => {
    while (at < text.length && (text[at] === " " || text[at] === "\t")) at++;
  };
  while (at < text.length) {
    skipSpace();
    const tokenMatch = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(text.slice(at));
    if (!tokenMatch) {
      at++;
      continue;
    }
    const token = tokenMatch[0];
    at += token.length;
    skipSpace();
    if (text[at] === "=") {
      at++;
      skipSpace();
      let value = "";
      if (text[at] === '"') {
        at++;
        while (at < text.length && text[at] !== '"') {
          if (text[at] === "\\" && at + 1 < text.length) at++;
          value += text[at];
          at++;
        }
        at++;
      } else {
        const bare = /^[^,\s]*/.exec(text.slice(at))?.[0] ?? "";
        value = bare;
        at += bare.length;
      }
      if (current) current.params[token.toLowerCase()] = value;
    } else {
      const scheme = token.toLowerCase();
      current = scheme === "bearer" || scheme === "basic" ? { scheme, params: {} } : null;
      if (current) found.push(current);
    }
    skipSpace();
    if (text[at] === ",") at++;
  }
  return found.find((c) => c.scheme === "bearer") ?? found[0] ?? null;
}
