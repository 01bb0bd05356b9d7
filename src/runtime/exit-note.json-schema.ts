// Generated from VmExit (./exit-note-schema.js) by test/unit/json-schemas.test.ts; do not edit.
import type { JsonSchemaOf } from "../platform/json-check.js";
import type { VmExit } from "./exit-note-schema.js";

export const VM_EXIT_JSON_SCHEMA: JsonSchemaOf<VmExit> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    reason: {
      type: "string",
      enum: [
        "shutdown",
        "ttl_expired",
        "owner_exited",
        "vmm_exited",
        "protocol_error",
        "boot_failed",
        "paused",
        "supervisor_died",
      ],
    },
    at: {
      type: "string",
    },
    detail: {
      type: "string",
    },
    vmm_exit_code: {
      anyOf: [
        {
          type: "integer",
          minimum: -9007199254740991,
          maximum: 9007199254740991,
        },
        {
          type: "null",
        },
      ],
    },
    vmm_signal: {
      type: ["string", "null"],
    },
  },
  required: ["reason", "at", "detail", "vmm_exit_code", "vmm_signal"],
};
