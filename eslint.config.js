// Lint configuration: the recommended JavaScript and TypeScript rules, and tsxi's layering rule
// (lint/layers.js: imports in src/ point down the layers), run by `npm test`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { layers } from "./lint/layers.js";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    plugins: { tsxi: { rules: { layers } } },
    rules: { "tsxi/layers": "error" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
      // Sharing a const enum across modules relies on the compiler inlining it (not isolatedModules-safe).
      "no-restricted-syntax": [
        "error",
        {
          selector: "ExportNamedDeclaration > TSEnumDeclaration[const=true]",
          message: "Export a `const X = {...} as const` object and `type X` instead of a const enum.",
        },
      ],
    },
  },
);
