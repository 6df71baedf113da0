#!/usr/bin/env node
// The `armory` command. A built CLI (dist/main.js, `npm run build:cli`) runs as it is; in a clone
// right after `npm ci` there is no build, so the TypeScript source runs through tsx (a dependency
// of the repository) and `npx armory` works with no build step.
import { existsSync } from "node:fs";

const built = new URL("../dist/main.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}
