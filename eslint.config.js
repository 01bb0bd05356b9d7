import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { layersPlugin } from "./eslint/layers.js";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "guest/build/", "netstack/build/", "coverage/"] },
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
    // The layers of DESIGN.md, checked on every relative import under src/ (see eslint/layers.js).
    files: ["src/**/*.ts"],
    plugins: { pyro: layersPlugin },
    rules: { "pyro/layers": "error" },
  },
);
