import { dirname, relative, resolve, sep } from "node:path";

/**
 * Which top-level folders under src/ each folder may import. Arrows point down only; errors/ and
 * platform/ are the ground floor every layer may use. A machine driver's folder (machine/qemu,
 * machine/host, …) is private to itself: only machine/registry.ts names the drivers.
 */
const GROUND = ["errors", "platform"];
const ALLOWED = {
  "cli.ts": ["surfaces"],
  "index.ts": ["surfaces", "api", "sandbox", "doctor", "errors", "environments"],
  surfaces: ["surfaces", "api", ...GROUND],
  api: ["api", "sandbox", "doctor", "environments", "secrets", "archive", ...GROUND],
  doctor: ["doctor", "machine", "environments", "sandbox", ...GROUND],
  sandbox: [
    "sandbox",
    "runtime",
    "machine",
    "environments",
    "agent-protocol",
    "archive",
    "secrets",
    "ext4",
    "terminal",
    ...GROUND,
  ],
  runtime: ["runtime", "machine", "agent-protocol", "secrets", ...GROUND],
  machine: ["machine", "agent-protocol", "environments", ...GROUND],
  environments: ["environments", "archive", ...GROUND],
  "agent-protocol": ["agent-protocol", ...GROUND],
  archive: ["archive", ...GROUND],
  secrets: ["secrets", ...GROUND],
  ext4: ["ext4", ...GROUND],
  terminal: ["terminal", ...GROUND],
  errors: ["errors"],
  platform: ["platform", "errors"],
};
const DRIVER_REGISTRATION = ["machine", "registry.ts"].join(sep);

function topOf(pathInSrc) {
  const [first] = pathInSrc.split(sep);
  return first;
}

/** machine/<driver>/… for a driver folder, else undefined. */
/** Folders under machine/ that are drivers; machine/network and machine/*.ts are shared by them. */
const DRIVERS = ["qemu", "host", "firecracker"];

function driverOf(pathInSrc) {
  const parts = pathInSrc.split(sep);
  return parts[0] === "machine" && parts.length > 2 && DRIVERS.includes(parts[1]) ? parts[1] : undefined;
}

const layers = {
  meta: { type: "problem", schema: [], messages: { upward: "{{from}}/ may not import {{to}}/: {{why}}" } },
  create(context) {
    const src = resolve(context.cwd, "src");
    const file = relative(src, context.filename);
    if (file.startsWith("..")) return {};
    const fromTop = topOf(file);
    const fromDriver = driverOf(file);
    const check = (node, specifier) => {
      if (typeof specifier !== "string" || !specifier.startsWith(".")) return;
      const target = relative(src, resolve(dirname(context.filename), specifier));
      if (target.startsWith("..")) return;
      const toTop = topOf(target);
      const allowed = ALLOWED[fromTop] ?? [];
      if (!allowed.includes(toTop)) {
        context.report({
          node,
          messageId: "upward",
          data: { from: fromTop, to: toTop, why: "imports point down the layers of DESIGN.md" },
        });
        return;
      }
      const toDriver = driverOf(target);
      if (toDriver !== undefined && toDriver !== fromDriver && file !== DRIVER_REGISTRATION) {
        context.report({
          node,
          messageId: "upward",
          data: {
            from: dirname(file),
            to: `machine/${toDriver}`,
            why: "a machine driver is reached only through machine/registry.ts",
          },
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node, node.source.value),
    };
  },
};

export const layersPlugin = { rules: { layers } };
