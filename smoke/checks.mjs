// Placeholders and checks shared by the smoke runner and the use-cases page generator.

/** Replaces every "{{name}}" in strings of `value` with the saved variable. */
export function fill(value, vars) {
  if (typeof value === "string") {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole) return lookup(vars, whole[1]); // keeps a saved number a number
    return value.replace(/\{\{(\w+)\}\}/g, (_, name) => String(lookup(vars, name)));
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, vars));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

function lookup(vars, name) {
  if (!(name in vars)) throw new Error(`no saved value {{${name}}}`);
  return vars[name];
}

/** The value at a dotted path ("published_ports.0.host_port"). */
export function valueAt(object, path) {
  return path.split(".").reduce((current, key) => (current == null ? undefined : current[key]), object);
}

function matches(actual, expected) {
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => matches(actual[i], item))
    );
  if (expected !== null && typeof expected === "object") {
    if ("contains" in expected) return typeof actual === "string" && actual.includes(expected.contains);
    if ("some" in expected)
      return Array.isArray(actual) && actual.some((item) => matches(item, expected.some));
    return (
      actual !== null &&
      typeof actual === "object" &&
      Object.entries(expected).every(([key, value]) => matches(actual[key], value))
    );
  }
  return actual === expected;
}

/** One line per check that `result` fails; empty when all pass. */
export function failedChecks(result, expect = {}, vars = {}) {
  return Object.entries(expect).flatMap(([path, expected]) => {
    const wanted = fill(expected, vars);
    const actual = valueAt(result, path);
    return matches(actual, wanted)
      ? []
      : [`${path}: expected ${describe(wanted)}, got ${JSON.stringify(actual)}`];
  });
}

/** A check as a reader sees it: `exit_code` is 0, `stdout` contains "ok". */
export function describeCheck(path, expected) {
  return `\`${path}\` ${describe(expected)}`;
}

function describe(expected) {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if ("contains" in expected) return `contains ${JSON.stringify(expected.contains)}`;
    if ("some" in expected) return `has an item matching \`${JSON.stringify(expected.some)}\``;
  }
  return `is \`${JSON.stringify(expected)}\``;
}
