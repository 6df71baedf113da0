#!/usr/bin/env node
// The `armory` command. It runs the TypeScript source through tsx (a dependency of the
// repository), so `npx armory` works right after `npm ci` with no build step, and never runs a
// stale build.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
