// Prisma CLI configuration. Armory never lets the CLI download engines: `generate` only needs
// the schema, and migrations go through scripts/db.ts (WASM schema engine + driver adapters).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
