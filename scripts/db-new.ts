// `npm run db:new <name> [--empty]`: creates prisma/migrations/<timestamp>_<name>/migration.sql
// from the changes in prisma/schema.prisma, offline (Prisma's WASM schema engine against
// throwaway in-memory PGlite databases). Never touches a real database or the network.
import path from "node:path";
import { createMigration, CreateMigrationError } from "../src/server/db/create-migration";

const USAGE = `Usage: npm run db:new <name> [-- --empty]

Creates prisma/migrations/<timestamp>_<name>/migration.sql from the changes made to
prisma/schema.prisma since the last migration (like \`prisma migrate dev --create-only\`).
  <name>    snake_case description, e.g. add_agents
  --empty   create an empty migration for hand-written SQL
Review the SQL, then apply it with \`npm run db:migrate\` (or just start Armory).`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const empty = argv.includes("--empty");
  const unknown = argv.filter((a) => a.startsWith("-") && a !== "--empty");
  const names = argv.filter((a) => !a.startsWith("-"));
  if (unknown.length > 0 || names.length !== 1) {
    if (unknown.length > 0) console.error(`Unknown option ${unknown.join(", ")}\n`);
    console.error(USAGE);
    return 2;
  }
  const cwd = process.cwd();
  const result = await createMigration({
    schemaPath: path.join(cwd, "prisma/schema.prisma"),
    migrationsDir: path.join(cwd, "prisma/migrations"),
    name: names[0] ?? "",
    empty,
  });
  if (!result.created) {
    console.log(result.message);
    return 0;
  }
  console.log(`Created migration ${result.migrationName}:`);
  console.log(`  ${path.relative(cwd, result.migrationFile)}`);
  console.log(`  ${path.relative(cwd, result.lockFile)}`);
  console.log(
    empty
      ? "Write your SQL in it, then apply it with `npm run db:migrate`."
      : "Review the SQL, then apply it with `npm run db:migrate`.",
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CreateMigrationError) console.error(`Error: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
