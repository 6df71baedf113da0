// `node scripts/fix-lockfile.mjs package-lock.json` after any `npm install` on a machine whose npm
// registry mirror lacks other platforms' optional builds (e.g. @next/swc-darwin-arm64): npm ci refuses a
// lock without entries for them. Adds those entries (version, os/cpu, optional); Linux skips them.
import fs from "node:fs";
const [file, ...given] = process.argv.slice(2);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const pk = lock.packages;
// Without names: every optional dependency that has no entry anywhere in the lock.
const names = given.length ? given : [...new Set(Object.values(pk).flatMap((v) => Object.keys(v.optionalDependencies ?? {})))]
  .filter((n) => !Object.keys(pk).some((k) => k === `node_modules/${n}` || k.endsWith(`/node_modules/${n}`)));
const platform = (name) => {
  const n = name.split("/").pop();
  const os = ["darwin", "win32", "android", "freebsd", "linux", "openharmony", "wasm32"].find((o) => n.includes(o));
  const cpu = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x", "wasm32"].find((c) => new RegExp(`-${c}(-|$)`).test(n));
  const out = {};
  if (os === "wasm32") out.cpu = ["wasm32"];
  else { if (os) out.os = [os]; if (cpu) out.cpu = [cpu]; }
  if (/-musl/.test(n)) out.libc = ["musl"]; else if (/-gnu/.test(n)) out.libc = ["glibc"];
  return out;
};
for (const name of names) {
  const key = `node_modules/${name}`;
  if (pk[key]) continue;
  const parentKey = Object.keys(pk).find((k) => pk[k].optionalDependencies?.[name]);
  const parent = pk[parentKey];
  const version = parent.optionalDependencies[name];
  const entry = { version, ...platform(name), optional: true };
  if (parent.dev) entry.dev = true;
  pk[key] = entry;
  console.log("added", key, JSON.stringify(entry));
}
lock.packages = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
