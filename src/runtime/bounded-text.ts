/** Longest JSON encoding (in bytes) of guest-supplied text a supervisor keeps or replies with. */
export const GUEST_TEXT_MAX_JSON_BYTES = 256;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * Text the guest chose (an error message), made safe to keep and to repeat in every later reply:
 * control characters become spaces (each would cost six bytes of JSON) and the rest is cut, on a
 * character boundary and marked with "…", so its JSON encoding stays within `maxJsonBytes`.
 */
export function boundedText(text: string, maxJsonBytes = GUEST_TEXT_MAX_JSON_BYTES): string {
  // A cut may split a surrogate pair: drop the orphaned half.
  const head = text
    .slice(0, maxJsonBytes)
    .replace(/[\ud800-\udbff]$/, "")
    .replace(CONTROL_CHARACTERS, " ");
  if (head.length === text.length && jsonBytes(head) <= maxJsonBytes) return head;
  let out = "";
  let used = jsonBytes("…");
  for (const character of head) {
    const cost = jsonBytes(character) - 2;
    if (used + cost > maxJsonBytes) break;
    out += character;
    used += cost;
  }
  return `${out}…`;
}

function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}
