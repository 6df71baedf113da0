// ESLint 9 flat config. `npm run lint` runs `eslint --max-warnings 0 .`, so every warning fails CI.
// eslint-config-next 16 exports flat-config arrays: core-web-vitals (Next, React, hooks, a11y,
// import rules) and typescript (typescript-eslint recommended).
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    name: "armory/rules",
    rules: {
      // Leading underscore marks a deliberately unused binding (callbacks, destructuring).
      "@typescript-eslint/no-unused-vars": [
        "warn",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  globalIgnores([
    ".next/**",
    "out/**",
    "build/**",
    "node_modules/**",
    "src/server/db/generated/**",
    "packages/*/dist/**",
    "packages/*/build/**",
    "test-results/**",
    "playwright-report/**",
    "coverage/**",
    "data/**",
    "next-env.d.ts",
  ]),
]);
