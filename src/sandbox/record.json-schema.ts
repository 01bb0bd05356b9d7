// Generated from SandboxRecord (./record.js) by test/unit/json-schemas.test.ts; do not edit.
import type { JsonSchemaOf } from "../platform/json-check.js";
import type { SandboxRecord } from "./record.js";

export const SANDBOX_RECORD_JSON_SCHEMA: JsonSchemaOf<SandboxRecord> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    schema: {
      type: "number",
      const: 2,
    },
    id: {
      type: "string",
    },
    environment: {
      type: "string",
    },
    backend: {
      type: "string",
      minLength: 1,
    },
    accel: {
      type: "string",
      enum: ["kvm", "tcg", "none"],
    },
    execution_mode: {
      type: "string",
      enum: ["guest_serial", "guest_vsock", "host_compat"],
    },
    vcpu_count: {
      type: "integer",
      minimum: -9007199254740991,
      maximum: 9007199254740991,
    },
    mem_mib: {
      type: "integer",
      minimum: -9007199254740991,
      maximum: 9007199254740991,
    },
    ttl_seconds: {
      type: "integer",
      minimum: -9007199254740991,
      maximum: 9007199254740991,
    },
    network_policy: {
      type: "string",
      enum: ["off", "egress", "egress+published-ports"],
    },
    allow_private_egress: {
      type: "boolean",
    },
    allow_host_compat: {
      type: "boolean",
    },
    network_plan: {
      anyOf: [
        {
          type: "object",
          properties: {
            address: {
              type: "string",
            },
            prefix_length: {
              type: "integer",
              minimum: -9007199254740991,
              maximum: 9007199254740991,
            },
            gateway: {
              type: "string",
            },
            dns: {
              type: ["string", "null"],
            },
            mtu: {
              type: "integer",
              minimum: -9007199254740991,
              maximum: 9007199254740991,
            },
            helper: {
              type: "string",
              const: "pyro-netstack",
            },
            allow_private_egress: {
              default: false,
              type: "boolean",
            },
          },
          required: ["address", "prefix_length", "gateway", "dns", "mtu", "helper"],
        },
        {
          type: "null",
        },
      ],
    },
    ephemeral: {
      type: "boolean",
    },
    owner_pid: {
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
    state: {
      type: "string",
      enum: ["created", "starting", "running", "stopped", "paused", "expired", "failed"],
    },
    created_at: {
      type: "string",
    },
    started_at: {
      type: ["string", "null"],
    },
    expires_at: {
      type: "string",
    },
    boot: {
      anyOf: [
        {
          type: "object",
          properties: {
            kernel: {
              type: "string",
            },
            initramfs: {
              type: "string",
            },
            rootfs: {
              type: "string",
            },
          },
          required: ["kernel", "initramfs", "rootfs"],
        },
        {
          type: "null",
        },
      ],
    },
    image: {
      default: null,
      anyOf: [
        {
          type: "object",
          properties: {
            env: {
              maxItems: 1024,
              type: "array",
              items: {
                type: "string",
                maxLength: 32768,
              },
            },
            working_dir: {
              anyOf: [
                {
                  type: "string",
                  maxLength: 4096,
                },
                {
                  type: "null",
                },
              ],
            },
            user: {
              anyOf: [
                {
                  type: "object",
                  properties: {
                    spec: {
                      type: "string",
                      maxLength: 256,
                    },
                    uid: {
                      type: "integer",
                      minimum: 0,
                      maximum: 4294967294,
                    },
                    gid: {
                      type: "integer",
                      minimum: 0,
                      maximum: 4294967294,
                    },
                  },
                  required: ["spec", "uid", "gid"],
                },
                {
                  type: "null",
                },
              ],
            },
          },
          required: ["env", "working_dir", "user"],
        },
        {
          type: "null",
        },
      ],
    },
    template: {
      default: null,
      type: ["string", "null"],
    },
    template_skipped: {
      default: null,
      type: ["string", "null"],
    },
    machine_id: {
      default: null,
      anyOf: [
        {
          type: "string",
          pattern: "^[0-9a-f]{32}$",
        },
        {
          type: "null",
        },
      ],
    },
    start: {
      default: null,
      anyOf: [
        {
          type: "object",
          properties: {
            mode: {
              type: "string",
              enum: ["template", "cold", "saved_state"],
            },
            cold_reason: {
              type: ["string", "null"],
            },
            at: {
              type: "string",
            },
            timings: {
              type: "object",
              propertyNames: {
                type: "string",
              },
              additionalProperties: {
                type: "number",
              },
            },
          },
          required: ["mode", "cold_reason", "at", "timings"],
        },
        {
          type: "null",
        },
      ],
    },
    supervisor_pid: {
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
    vmm_pid: {
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
    guest: {
      anyOf: [
        {
          type: "object",
          properties: {
            kernel_release: {
              type: "string",
            },
            agent_version: {
              type: "string",
            },
          },
          required: ["kernel_release", "agent_version"],
        },
        {
          type: "null",
        },
      ],
    },
    last_error: {
      anyOf: [
        {
          type: "object",
          properties: {
            code: {
              type: "string",
            },
            message: {
              type: "string",
            },
          },
          required: ["code", "message"],
        },
        {
          type: "null",
        },
      ],
    },
    workspace: {
      anyOf: [
        {
          type: "object",
          properties: {
            name: {
              type: ["string", "null"],
            },
            labels: {
              type: "object",
              propertyNames: {
                type: "string",
              },
              additionalProperties: {
                type: "string",
              },
            },
            last_activity_at: {
              type: "string",
            },
            reset_count: {
              type: "integer",
              minimum: -9007199254740991,
              maximum: 9007199254740991,
            },
            command_count: {
              type: "integer",
              minimum: -9007199254740991,
              maximum: 9007199254740991,
            },
            seed: {
              type: "object",
              properties: {
                mode: {
                  type: "string",
                  enum: ["empty", "directory", "archive", "file"],
                },
                source: {
                  type: ["string", "null"],
                },
                entry_count: {
                  type: "integer",
                  minimum: -9007199254740991,
                  maximum: 9007199254740991,
                },
                bytes: {
                  type: "integer",
                  minimum: -9007199254740991,
                  maximum: 9007199254740991,
                },
              },
              required: ["mode", "source", "entry_count", "bytes"],
            },
          },
          required: ["name", "labels", "last_activity_at", "reset_count", "command_count", "seed"],
        },
        {
          type: "null",
        },
      ],
    },
  },
  required: [
    "schema",
    "id",
    "environment",
    "backend",
    "accel",
    "execution_mode",
    "vcpu_count",
    "mem_mib",
    "ttl_seconds",
    "network_policy",
    "allow_private_egress",
    "allow_host_compat",
    "network_plan",
    "ephemeral",
    "owner_pid",
    "state",
    "created_at",
    "started_at",
    "expires_at",
    "boot",
    "supervisor_pid",
    "vmm_pid",
    "guest",
    "last_error",
    "workspace",
  ],
};
