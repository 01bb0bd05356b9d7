// Generated from EnvironmentManifest (./manifest-schema.js) by test/unit/json-schemas.test.ts; do not edit.
import type { JsonSchemaOf } from "../platform/json-check.js";
import type { EnvironmentManifest } from "./manifest-schema.js";

export const ENVIRONMENT_MANIFEST_JSON_SCHEMA: JsonSchemaOf<EnvironmentManifest> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    schema: {
      type: "number",
      const: 1,
    },
    name: {
      type: "string",
      minLength: 1,
    },
    version: {
      type: "string",
      minLength: 1,
    },
    distribution: {
      type: "string",
      minLength: 1,
    },
    suite: {
      type: "string",
      minLength: 1,
    },
    description: {
      type: "string",
    },
    packages: {
      type: "array",
      items: {
        type: "string",
      },
    },
    kernel_release: {
      type: "string",
      minLength: 1,
    },
    built_at: {
      type: "string",
      minLength: 1,
    },
    source: {
      type: "string",
      enum: ["local-build", "oci", "import"],
    },
    image: {
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
        entrypoint: {
          anyOf: [
            {
              maxItems: 1024,
              type: "array",
              items: {
                type: "string",
                maxLength: 32768,
              },
            },
            {
              type: "null",
            },
          ],
        },
        cmd: {
          anyOf: [
            {
              maxItems: 1024,
              type: "array",
              items: {
                type: "string",
                maxLength: 32768,
              },
            },
            {
              type: "null",
            },
          ],
        },
      },
      required: ["env", "working_dir", "user", "entrypoint", "cmd"],
    },
    provenance: {
      anyOf: [
        {
          type: "object",
          properties: {
            kind: {
              type: "string",
              const: "built",
            },
            inputs: {
              type: "object",
              propertyNames: {
                type: "string",
              },
              additionalProperties: {
                anyOf: [
                  {
                    type: "string",
                  },
                  {
                    type: "number",
                  },
                  {
                    type: "array",
                    items: {
                      type: "string",
                    },
                  },
                  {
                    type: "null",
                  },
                ],
              },
            },
          },
          required: ["kind", "inputs"],
        },
        {
          type: "object",
          properties: {
            kind: {
              type: "string",
              const: "pulled",
            },
            reference: {
              type: "string",
              minLength: 1,
            },
            manifest_digest: {
              type: "string",
              pattern: "^sha256:[0-9a-f]{64}$",
            },
          },
          required: ["kind", "reference", "manifest_digest"],
        },
        {
          type: "object",
          properties: {
            kind: {
              type: "string",
              const: "imported",
            },
            reference: {
              type: "string",
              minLength: 1,
            },
            manifest_digest: {
              type: "string",
              pattern: "^sha256:[0-9a-f]{64}$",
            },
            kernel_from: {
              type: "string",
              minLength: 1,
            },
          },
          required: ["kind", "reference", "manifest_digest", "kernel_from"],
        },
      ],
    },
    files: {
      type: "object",
      properties: {
        kernel: {
          type: "object",
          properties: {
            path: {
              type: "string",
              pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
              description: "must be a plain file name",
            },
            sha256: {
              type: "string",
              pattern: "^[0-9a-f]{64}$",
            },
            size: {
              type: "integer",
              minimum: 0,
              maximum: 9007199254740991,
            },
          },
          required: ["path", "sha256", "size"],
        },
        initramfs: {
          type: "object",
          properties: {
            path: {
              type: "string",
              pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
              description: "must be a plain file name",
            },
            sha256: {
              type: "string",
              pattern: "^[0-9a-f]{64}$",
            },
            size: {
              type: "integer",
              minimum: 0,
              maximum: 9007199254740991,
            },
          },
          required: ["path", "sha256", "size"],
        },
        rootfs: {
          type: "object",
          properties: {
            path: {
              type: "string",
              pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
              description: "must be a plain file name",
            },
            sha256: {
              type: "string",
              pattern: "^[0-9a-f]{64}$",
            },
            size: {
              type: "integer",
              minimum: 0,
              maximum: 9007199254740991,
            },
          },
          required: ["path", "sha256", "size"],
        },
      },
      required: ["kernel", "initramfs", "rootfs"],
    },
  },
  required: [
    "schema",
    "name",
    "version",
    "distribution",
    "suite",
    "description",
    "packages",
    "kernel_release",
    "built_at",
    "source",
    "files",
  ],
};
