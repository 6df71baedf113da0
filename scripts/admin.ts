// `npm run admin -- <command>`: instance administration from the command line, for a locked-out
// instance. Uses the same configuration as the server (environment, .env is not read).
//   reset-password <email>   sets a new password (ARMORY_NEW_PASSWORD, or a generated one that is
//                            printed once) and signs the user out everywhere
//   list-admins              the instance admins
//   make-admin <email>       makes the account an instance admin (and enables it if disabled)
// With the embedded database (no DATABASE_URL), stop Armory first: PGlite opens from one process only.
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, describeDatabase, loadConfig } from "../src/server/config";
import { DatabaseUnavailableError, openDatabase } from "../src/server/db";
import { DomainError } from "../src/server/domain/errors";
import { generatePassword, listAdmins, makeAdmin, resetPassword } from "../src/server/instance/users";

const USAGE = `Usage: npm run admin -- <command>
  reset-password <email>   new password (ARMORY_NEW_PASSWORD or generated), signs the user out
  list-admins              lists the instance admins
  make-admin <email>       makes the account an instance admin (and enables it)
With the embedded database, stop Armory first.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const email = () => {
    if (rest.length !== 1 || !rest[0]!.includes("@")) throw new UsageError(`${command} needs one email address.`);
    return rest[0]!;
  };
  if (!["reset-password", "list-admins", "make-admin"].includes(command)) throw new UsageError(`Unknown command: ${command}.`);
  const target = command === "list-admins" ? null : email();

  const config = loadConfig();
  console.log(`Database: ${describeDatabase(config)}`);
  const db = await openDatabase(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, "pglite") });
  try {
    if (command === "reset-password") {
      const given = process.env.ARMORY_NEW_PASSWORD;
      const password = given || generatePassword();
      const { sessionsRevoked } = await resetPassword(db.prisma, target!, password);
      console.log(`Password reset for ${target}; ${sessionsRevoked} session(s) signed out.`);
      if (!given) console.log(`New password: ${password}\n(shown once: pass it on privately and have them change it)`);
    } else if (command === "list-admins") {
      const admins = await listAdmins(db.prisma);
      if (!admins.length) console.log("No instance admin yet: the first account to sign up becomes one.");
      for (const a of admins) {
        console.log(`${a.email}  ${a.name}${a.disabledAt ? "  (disabled)" : ""}  last seen ${a.lastSeenAt?.toISOString() ?? "never"}`);
      }
    } else {
      const { wasAdmin, wasDisabled } = await makeAdmin(db.prisma, target!);
      console.log(`${target} ${wasAdmin ? "was already" : "is now"} an instance admin${wasDisabled ? " (and is enabled again)" : ""}.`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`Error: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof DatabaseUnavailableError || err instanceof DomainError) console.error(`Error: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
