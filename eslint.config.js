import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "guest/build/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The layers of DESIGN.md: adapters never reach past operations into the machinery.
    files: ["src/cli/**/*.ts", "src/mcp/**/*.ts", "src/sdk/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/backends/**", "**/agent-protocol/**"],
              message: "Adapters call operations, not backends.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/platform/**/*.ts", "src/errors/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["../*", "!../errors", "!../errors/*", "!../platform", "!../platform/*"],
              message: "platform/ and errors/ are leaves: they import nothing else of pyro.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/backends/**/*.ts", "src/environments/**/*.ts", "src/agent-protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/core/**", "**/operations/**", "**/cli/**", "**/mcp/**", "**/sdk/**"],
              message: "Lower layers never import upward.",
            },
          ],
        },
      ],
    },
  },
);
