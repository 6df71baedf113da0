// @armory/client as a new user gets it: `npm run pack:client` builds and packs it, a fresh project
// outside the repository installs only that tarball (and the dependencies it declares), type-checks
// a sample with tsc in under 5 s, and runs it (ESM and CJS) against a running Armory with a
// machine token: lists projects, creates one, reads it back.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, startHttp, startTestArmory, type TestArmory } from "../support/armory";
import { makeToken } from "../support/trust";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");

const SAMPLE = `
import { armoryError, createArmoryClient, type RouterOutputs } from "@armory/client";

declare const process: { env: Record<string, string | undefined>; stdout: { write(s: string): void } };

const armory = createArmoryClient({ url: process.env.ARMORY_URL!, token: process.env.ARMORY_TOKEN! });
const before: RouterOutputs["project"]["list"] = await armory.project.list.query();
const created = await armory.project.create.mutate({ name: "From the tarball" });
const read = await armory.project.get.query({ projectId: created.id });
const agents = await armory.agent.list.query({ projectId: created.id });
// @ts-expect-error: agent.list needs a projectId (the generated types know every input)
void (() => armory.agent.list.query({}));
let missing = "";
try {
  await armory.project.get.query({ projectId: "00000000-0000-4000-8000-000000000000" });
} catch (err) {
  missing = armoryError(err)?.code ?? "?";
}
const createdAt: Date = read.createdAt;
process.stdout.write(JSON.stringify({ before: before.length, name: read.name, agents: agents.length, missing, dateIsDate: createdAt instanceof Date }));
`;

describe("@armory/client tarball", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let token: string;
  let tarball: string;
  let dir: string;

  beforeAll(async () => {
    const packed = await run("npm", ["run", "-s", "pack:client"], { cwd: ROOT, maxBuffer: 16 << 20 });
    tarball = packed.stdout.trim().split("\n").at(-1)!;
    armory = await startTestArmory("pglite");
    http = await startHttp(() => armory.services);
    const user = await signUp(armory.services);
    token = (await makeToken(armory.services, user.id)).token;
    dir = await mkdtemp(path.join(os.tmpdir(), "armory-client-"));
  }, 300_000);

  afterAll(async () => {
    await http?.close();
    await armory?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("declarations stand alone: only @trpc/*, superjson and eventsource are imported", async () => {
    expect(path.isAbsolute(tarball) && tarball.endsWith(".tgz")).toBe(true);
    const dist = path.join(ROOT, "packages/client/dist");
    for (const f of ["index.d.ts", "index.d.cts"]) {
      const text = await readFile(path.join(dist, f), "utf8");
      expect(text).not.toMatch(/src\/server|@prisma|\/generated\b|db\/generated/);
      expect(text).not.toMatch(/from\s+["']\.\.?\/|import\(["']\.\.?\//);
      const specifiers = [...text.matchAll(/(?:from|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
      expect(new Set(specifiers)).toEqual(new Set(["@trpc/client", "@trpc/server"]));
      // Generated from the app router: procedures of several domains are there.
      for (const p of ["agent:", "chat:", "files:", "approval:", "onStatus:"]) expect(text).toContain(p);
    }
  });

  it("a fresh project installs the tarball, type-checks a sample in < 5 s and calls Armory", async () => {
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "sample", private: true, type: "module" }));
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: dir, maxBuffer: 16 << 20 });
    const installed = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies)).toEqual(["@armory/client"]);
    await writeFile(path.join(dir, "sample.ts"), SAMPLE);
    // A plain Node project's settings (no DOM lib: its 40k lines would be most of the time measured).
    await writeFile(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, lib: ["es2023"], types: [], outDir: "out", skipLibCheck: true },
        files: ["sample.ts"],
      }),
    );
    const started = performance.now();
    await run(process.execPath, [TSC, "-p", "."], { cwd: dir }).catch((err: { stdout?: string }) => {
      throw new Error(`tsc failed:\n${err.stdout}`);
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`tsc on the sample: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(5);

    const env = { ...process.env, ARMORY_URL: http.url, ARMORY_TOKEN: token };
    const esm = await run(process.execPath, ["out/sample.js"], { cwd: dir, env });
    expect(JSON.parse(esm.stdout)).toEqual({ before: 0, name: "From the tarball", agents: 0, missing: "NOT_FOUND", dateIsDate: true });

    // CommonJS consumers get the same client.
    const cjs = await run(
      process.execPath,
      ["-e", `const { createArmoryClient } = require("@armory/client"); createArmoryClient({ url: process.env.ARMORY_URL, token: process.env.ARMORY_TOKEN }).project.list.query().then((p) => console.log(JSON.stringify(p.map((x) => x.name))));`],
      { cwd: dir, env },
    );
    expect(JSON.parse(cjs.stdout)).toEqual(["From the tarball"]);

    // A wrong token is refused with UNAUTHORIZED.
    const bad = await run(process.execPath, ["out/sample.js"], { cwd: dir, env: { ...env, ARMORY_TOKEN: `${token.slice(0, -2)}xx` } }).catch((e: { stderr: string }) => e);
    expect("stderr" in bad ? bad.stderr : "").toMatch(/UNAUTHORIZED|401|token/i);
  }, 240_000);
});
