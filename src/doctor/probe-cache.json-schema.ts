// Generated from DoctorProbeCache (./probe-cache-schema.js) by test/unit/json-schemas.test.ts; do not edit.
import type { JsonSchemaOf } from "../platform/json-check.js";
import type { DoctorProbeCache } from "./probe-cache-schema.js";

export const DOCTOR_PROBE_CACHE_JSON_SCHEMA: JsonSchemaOf<DoctorProbeCache> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    schema: {
      type: "number",
      const: 1,
    },
    measured_at: {
      type: "string",
    },
    inputs: {
      type: "object",
      propertyNames: {
        type: "string",
      },
      additionalProperties: {
        type: "string",
      },
    },
    survey: {
      type: "object",
      properties: {
        checks: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: {
                type: "string",
              },
              status: {
                type: "string",
                enum: ["PASS", "FAIL", "WARN"],
              },
              detail: {
                type: "string",
              },
              fix: {
                type: ["string", "null"],
              },
            },
            required: ["name", "status", "detail", "fix"],
          },
        },
        tools: {
          type: "object",
          propertyNames: {
            type: "string",
          },
          additionalProperties: {
            type: ["string", "null"],
          },
        },
        kvm: {
          type: "object",
          properties: {
            device: {
              type: "string",
            },
            exists: {
              type: "boolean",
            },
            readable: {
              type: "boolean",
            },
            writable: {
              type: "boolean",
            },
            usable: {
              type: ["boolean", "null"],
            },
            evidence: {
              type: "string",
            },
            probed_at: {
              type: ["string", "null"],
            },
            cached: {
              type: "boolean",
            },
          },
          required: ["device", "exists", "readable", "writable", "usable", "evidence", "probed_at", "cached"],
        },
        selected: {
          type: ["string", "null"],
        },
      },
      required: ["checks", "tools", "kvm", "selected"],
    },
    hardening: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: {
            type: "string",
          },
          status: {
            type: "string",
            enum: ["PASS", "FAIL", "WARN"],
          },
          detail: {
            type: "string",
          },
          fix: {
            type: ["string", "null"],
          },
        },
        required: ["name", "status", "detail", "fix"],
      },
    },
  },
  required: ["schema", "measured_at", "inputs", "survey", "hardening"],
};
