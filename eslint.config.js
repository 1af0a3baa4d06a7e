// Lint configuration: the recommended JavaScript and TypeScript rules, run by `npm test`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
