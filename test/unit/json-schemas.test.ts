import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DoctorProbeCache } from "../../src/doctor/probe-cache-schema.js";
import { DOCTOR_PROBE_CACHE_JSON_SCHEMA } from "../../src/doctor/probe-cache.json-schema.js";
import { manifestSchema } from "../../src/environments/manifest-schema.js";
import { ENVIRONMENT_MANIFEST_JSON_SCHEMA } from "../../src/environments/manifest.json-schema.js";
import { checkJson, type JsonSchema } from "../../src/platform/json-check.js";
import { VmExit } from "../../src/runtime/exit-note-schema.js";
import { VM_EXIT_JSON_SCHEMA } from "../../src/runtime/exit-note.json-schema.js";
import { SandboxRecord } from "../../src/sandbox/record.js";
import { SANDBOX_RECORD_JSON_SCHEMA } from "../../src/sandbox/record.json-schema.js";

/**
 * Records and manifests are read without zod, against the JSON Schema zod renders from their
 * schema (platform/json-check.ts). Each rendering is a generated file; this test fails when one
 * is stale, and `UPDATE_JSON_SCHEMAS=1 npx vitest run test/unit/json-schemas.test.ts` rewrites them.
 */
const GENERATED: Array<{
  zod: z.ZodType;
  file: string;
  name: string;
  type: string;
  from: string;
  current: JsonSchema;
}> = [
  {
    zod: SandboxRecord,
    file: "src/sandbox/record.json-schema.ts",
    name: "SANDBOX_RECORD_JSON_SCHEMA",
    type: "SandboxRecord",
    from: "./record.js",
    current: SANDBOX_RECORD_JSON_SCHEMA,
  },
  {
    zod: VmExit,
    file: "src/runtime/exit-note.json-schema.ts",
    name: "VM_EXIT_JSON_SCHEMA",
    type: "VmExit",
    from: "./exit-note-schema.js",
    current: VM_EXIT_JSON_SCHEMA,
  },
  {
    zod: manifestSchema,
    file: "src/environments/manifest.json-schema.ts",
    name: "ENVIRONMENT_MANIFEST_JSON_SCHEMA",
    type: "EnvironmentManifest",
    from: "./manifest-schema.js",
    current: ENVIRONMENT_MANIFEST_JSON_SCHEMA,
  },
  {
    zod: DoctorProbeCache,
    file: "src/doctor/probe-cache.json-schema.ts",
    name: "DOCTOR_PROBE_CACHE_JSON_SCHEMA",
    type: "DoctorProbeCache",
    from: "./probe-cache-schema.js",
    current: DOCTOR_PROBE_CACHE_JSON_SCHEMA,
  },
];

const rendered = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: "input" });

function source(entry: (typeof GENERATED)[number]): string {
  return [
    `// Generated from ${entry.type} (${entry.from}) by test/unit/json-schemas.test.ts; do not edit.`,
    'import type { JsonSchemaOf } from "../platform/json-check.js";',
    `import type { ${entry.type} } from "${entry.from}";`,
    "",
    `export const ${entry.name}: JsonSchemaOf<${entry.type}> = ${JSON.stringify(rendered(entry.zod), null, 2)};`,
    "",
  ].join("\n");
}

describe("generated JSON Schemas", () => {
  it.each(GENERATED)("$file is zod's rendering of $type", (entry) => {
    if (process.env.UPDATE_JSON_SCHEMAS === "1") writeFileSync(entry.file, source(entry));
    else expect(entry.current).toEqual(rendered(entry.zod));
  });
});

describe("checkJson agrees with zod", () => {
  const exit = {
    reason: "shutdown",
    at: "2026-01-01T00:00:00Z",
    detail: "d",
    vmm_exit_code: 0,
    vmm_signal: null,
  };
  const file = { path: "rootfs.ext4", sha256: "a".repeat(64), size: 10 };
  const manifest = {
    schema: 1,
    name: "debian:12",
    version: "0.1.0",
    distribution: "debian",
    suite: "bookworm",
    description: "",
    packages: ["git"],
    kernel_release: "6.1",
    built_at: "now",
    source: "local-build",
    files: { kernel: file, initramfs: file, rootfs: file },
  };
  const plan = {
    address: "10.0.2.15",
    prefix_length: 24,
    gateway: "10.0.2.2",
    dns: null,
    mtu: 1500,
    helper: "pyro-netstack",
  };
  const cases: Array<[string, z.ZodType, JsonSchema, unknown]> = [
    ["an exit note", VmExit, VM_EXIT_JSON_SCHEMA, exit],
    ["an exit note with an unknown reason", VmExit, VM_EXIT_JSON_SCHEMA, { ...exit, reason: "bored" }],
    ["an exit note with a fractional code", VmExit, VM_EXIT_JSON_SCHEMA, { ...exit, vmm_exit_code: 1.5 }],
    ["an exit note with extra keys", VmExit, VM_EXIT_JSON_SCHEMA, { ...exit, extra: 1 }],
    ["a manifest", manifestSchema, ENVIRONMENT_MANIFEST_JSON_SCHEMA, manifest],
    [
      "a manifest naming a path outside its entry",
      manifestSchema,
      ENVIRONMENT_MANIFEST_JSON_SCHEMA,
      { ...manifest, files: { ...manifest.files, rootfs: { ...file, path: "../x" } } },
    ],
    [
      "a manifest with a negative size",
      manifestSchema,
      ENVIRONMENT_MANIFEST_JSON_SCHEMA,
      { ...manifest, files: { ...manifest.files, kernel: { ...file, size: -1 } } },
    ],
    [
      "a manifest of another schema",
      manifestSchema,
      ENVIRONMENT_MANIFEST_JSON_SCHEMA,
      { ...manifest, schema: 2 },
    ],
    ["an array", VmExit, VM_EXIT_JSON_SCHEMA, [exit]],
  ];
  it.each(cases)("on %s", (_case, zod, schema, value) => {
    const expected = zod.safeParse(value);
    const actual = checkJson(schema, value);
    expect(actual.ok).toBe(expected.success);
    if (actual.ok && expected.success) expect(actual.value).toEqual(expected.data);
  });

  it("fills defaults and drops undeclared keys as zod does (a network plan without allow_private_egress)", () => {
    const record = SandboxRecord.shape.network_plan;
    const value = { ...plan, stray: true };
    const checked = checkJson(SANDBOX_RECORD_JSON_SCHEMA, {});
    expect(checked.ok).toBe(false);
    const schema = (SANDBOX_RECORD_JSON_SCHEMA.properties as Record<string, JsonSchema>).network_plan;
    expect(schema).toBeDefined();
    const actual = checkJson(schema ?? {}, value);
    expect(actual).toEqual({ ok: true, value: record.parse(value) });
    expect(actual.ok && actual.value).toMatchObject({ allow_private_egress: false });
  });

  it("keeps a key named __proto__ as data, never as the result's prototype", () => {
    const labels = (SANDBOX_RECORD_JSON_SCHEMA.properties as Record<string, JsonSchema>).workspace;
    const facet = (labels?.anyOf as JsonSchema[])[0]?.properties as Record<string, JsonSchema>;
    const checked = checkJson(facet.labels ?? {}, JSON.parse('{"__proto__": "x", "a": "b"}'));
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(Object.getPrototypeOf(checked.value)).toBe(Object.prototype);
    expect(Object.keys(checked.value as object)).toEqual(["__proto__", "a"]);
  });

  it("refuses a schema keyword it does not know rather than skipping it", () => {
    expect(() => checkJson({ type: "string", format: "email" }, "x")).toThrow(
      /unsupported JSON Schema keyword format/,
    );
  });
});
