import { PyroError } from "../../errors/index.js";

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/;
const MAX_NAME = 128;
const MAX_LABEL_VALUE = 256;
const MAX_LABELS = 64;
// Printable text only: names and labels end up in terminals and JSON consumers.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export function validateName(name: string | null): string | null {
  if (name === null) return null;
  if (name.trim() === "" || name.length > MAX_NAME || CONTROL.test(name)) {
    throw new PyroError("INVALID_ARGUMENT", `invalid workspace name "${name}"`, {
      hint: `Use 1-${MAX_NAME} printable characters.`,
    });
  }
  return name;
}

export function validateLabels(labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw new PyroError("INVALID_ARGUMENT", `at most ${MAX_LABELS} labels`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) {
      throw new PyroError("INVALID_ARGUMENT", `invalid label key "${key}"`, {
        hint: "Keys start with a letter or digit and use letters, digits, _ . - / (at most 63).",
      });
    }
    if (value.length > MAX_LABEL_VALUE || CONTROL.test(value)) {
      throw new PyroError("INVALID_ARGUMENT", `invalid value for label "${key}"`, {
        hint: `Values are at most ${MAX_LABEL_VALUE} printable characters.`,
      });
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** Snapshot names are plain names: they become file names on the host. */
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateSnapshotName(name: string): string {
  if (!SNAPSHOT_NAME.test(name) || name === "baseline") {
    throw new PyroError("INVALID_ARGUMENT", `invalid snapshot name "${name}"`, {
      hint: "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit ('baseline' is reserved).",
    });
  }
  return name;
}
