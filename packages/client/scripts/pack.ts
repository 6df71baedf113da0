// `npm run pack:client`: builds @armory/client and packs it; the tarball's absolute path is the
// last line printed (scripts: `npm run pack:client | tail -n 1`).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { buildClient } from "./build";

const PKG = path.resolve(import.meta.dirname, "..");
const dist = await buildClient();
const out = execFileSync("npm", ["pack", "--json", "--pack-destination", PKG], { cwd: dist, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
const [info] = JSON.parse(out) as { filename: string; size: number; entryCount: number }[];
if (!info) throw new Error("npm pack printed nothing");
process.stderr.write(`packed ${info.entryCount} files, ${(info.size / 1024).toFixed(1)} KiB\n`);
process.stdout.write(`${path.join(PKG, info.filename)}\n`);
