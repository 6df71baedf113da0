// Deploy files: docker-compose.yml (validated and normalised by docker-compose itself),
// Dockerfile and .env.example. Needs the docker-compose binary (Debian: apt-get install -y
// docker-compose); without it these tests fail rather than skip.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverNodeFlags } from "./support/own-armory";

const root = path.resolve(import.meta.dirname, "..");
const composeFile = path.join(root, "docker-compose.yml");
const PLACEHOLDER_SECRET = "test-placeholder-secret-0123456789abcdef";

// js-yaml comes with ESLint (no direct dependency): enough to read `docker-compose config`.
const yaml = createRequire(import.meta.url)("js-yaml") as { load(text: string): unknown };

type Dict = Record<string, unknown>;

let emptyEnvFile = "";

beforeAll(() => {
  // An empty env file so a developer's own .env cannot change what is tested.
  emptyEnvFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "armory-deploy-test-")), "empty.env");
  fs.writeFileSync(emptyEnvFile, "");
});

afterAll(() => {
  if (emptyEnvFile) fs.rmSync(path.dirname(emptyEnvFile), { recursive: true, force: true });
});

function compose(args: string[], extraEnv: Record<string, string> = {}) {
  const result = spawnSync("docker-compose", ["--env-file", emptyEnvFile, "-f", composeFile, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
    // Only what compose needs, so variables set in the CI environment do not leak in.
    env: { NODE_ENV: "test", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...extraEnv },
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error(
      "docker-compose is not installed, so docker-compose.yml cannot be validated. " +
        "Install it (Debian: apt-get install -y docker-compose) and run the tests again.",
    );
  }
  if (result.error) throw result.error;
  return result;
}

function normalisedCompose(): Dict {
  const result = compose(["config"], { ARMORY_AUTH_SECRET: PLACEHOLDER_SECRET });
  expect(result.status, result.stderr).toBe(0);
  return yaml.load(result.stdout) as Dict;
}

function service(config: Dict, name: string): Dict {
  const services = config.services as Dict | undefined;
  expect(services, "compose file has no services").toBeDefined();
  const s = services?.[name] as Dict | undefined;
  expect(s, `compose file has no "${name}" service`).toBeDefined();
  return s as Dict;
}

/** Volume entries as { source, target }, from either the short or the long syntax. */
function volumes(s: Dict): { source: string; target: string }[] {
  return ((s.volumes as unknown[] | undefined) ?? []).map((v) => {
    if (typeof v === "string") {
      const [source = "", target = ""] = v.split(":");
      return { source, target };
    }
    const o = v as Dict;
    return { source: String(o.source ?? ""), target: String(o.target ?? "") };
  });
}

function environment(s: Dict): Record<string, string | null> {
  const env = s.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e: string) => {
        const i = e.indexOf("=");
        return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return (env ?? {}) as Record<string, string | null>;
}

function healthcheckText(s: Dict): string {
  const test = (s.healthcheck as Dict | undefined)?.test;
  return Array.isArray(test) ? test.join(" ") : String(test ?? "");
}

/** Top-level keys of the `z.object({...})` in src/server/config.ts: the variables Armory reads. */
function configEnvVars(): string[] {
  const source = fs.readFileSync(path.join(root, "src/server/config.ts"), "utf8");
  const start = source.indexOf("z.object({");
  expect(start, "no z.object({ in src/server/config.ts").toBeGreaterThanOrEqual(0);
  // The object ends at the first line that closes it at the outer indentation.
  const end = source.indexOf("\n});", start);
  const body = source.slice(start, end < 0 ? undefined : end);
  const keys = [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1] as string);
  return [...new Set(keys)];
}

describe("docker-compose.yml", () => {
  it("is valid for docker-compose (config -q)", () => {
    const result = compose(["config", "-q"], { ARMORY_AUTH_SECRET: PLACEHOLDER_SECRET });
    expect(result.status, `docker-compose config -q failed:\n${result.stderr}`).toBe(0);
  });

  it("refuses to start without ARMORY_AUTH_SECRET", () => {
    const result = compose(["config", "-q"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("ARMORY_AUTH_SECRET");
  });

  it("gives armory the docker socket, the postgres database, a data volume and a healthcheck", () => {
    const config = normalisedCompose();
    const armory = service(config, "armory");
    service(config, "postgres");

    expect(volumes(armory)).toContainEqual({ source: "/var/run/docker.sock", target: "/var/run/docker.sock" });
    expect(volumes(armory).some((v) => v.target === "/data")).toBe(true);

    const env = environment(armory);
    expect(env.ARMORY_AUTH_SECRET).toBe(PLACEHOLDER_SECRET);
    expect(env.ARMORY_BIND_ADDRESS).toBe("0.0.0.0");
    const dbUrl = new URL(String(env.DATABASE_URL));
    expect(dbUrl.protocol).toMatch(/^postgres(ql)?:$/);
    expect(dbUrl.hostname).toBe("postgres");

    expect(healthcheckText(armory)).toContain("/api/health");
    expect(armory.depends_on).toMatchObject({ postgres: { condition: "service_healthy" } });
    expect(armory.restart).toBe("unless-stopped");
  });

  it("passes only variables Armory knows (no typos)", () => {
    const known = new Set(configEnvVars());
    const unknown = Object.keys(environment(service(normalisedCompose(), "armory"))).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
  });

  it("takes its images from ARMORY_IMAGE and ARMORY_POSTGRES_IMAGE (registry defaults) and its host port from ARMORY_HOST_PORT", () => {
    const defaults = normalisedCompose();
    expect(service(defaults, "armory").image).toBe("armory:local");
    expect(service(defaults, "postgres").image).toBe("postgres:16-alpine");
    const result = compose(["config"], {
      ARMORY_AUTH_SECRET: PLACEHOLDER_SECRET,
      ARMORY_IMAGE: "registry.example/armory:1.2.3",
      ARMORY_POSTGRES_IMAGE: "armory-postgres:15-bookworm",
      ARMORY_HOST_PORT: "3999",
    });
    expect(result.status, result.stderr).toBe(0);
    const config = yaml.load(result.stdout) as Dict;
    expect(service(config, "armory").image).toBe("registry.example/armory:1.2.3");
    expect(service(config, "postgres").image).toBe("armory-postgres:15-bookworm");
    expect(JSON.stringify(service(config, "armory").ports)).toContain("3999");
  });

  it("keeps postgres data in a named volume and checks it with pg_isready", () => {
    const config = normalisedCompose();
    const postgres = service(config, "postgres");
    const named = Object.keys((config.volumes as Dict | undefined) ?? {});
    const data = volumes(postgres).find((v) => v.target.startsWith("/var/lib/postgresql"));
    expect(data, "postgres has no volume for /var/lib/postgresql").toBeDefined();
    expect(named).toContain(data?.source);
    expect(healthcheckText(postgres)).toContain("pg_isready");
  });
});

describe("Dockerfile", () => {
  /** Instructions with line continuations joined and comments dropped. */
  function instructions(): { op: string; args: string }[] {
    const text = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
    const joined = text
      .split("\n")
      .filter((line) => !/^\s*#/.test(line))
      .join("\n")
      .replace(/\\\n/g, " ");
    return joined
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [op = "", ...rest] = line.split(/\s+/);
        return { op: op.toUpperCase(), args: rest.join(" ") };
      });
  }

  it("takes its base image as a build argument", () => {
    const all = instructions();
    expect(all[0]).toEqual({ op: "ARG", args: "NODE_IMAGE=node:20-bookworm-slim" });
    expect(all.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0])).toEqual(["${NODE_IMAGE}", "${NODE_IMAGE}"]);
  });

  it("checks /api/health and starts the compiled server in a non-root runtime stage", () => {
    const all = instructions();
    const lastFrom = all.map((i) => i.op).lastIndexOf("FROM");
    const runtime = all.slice(lastFrom);

    const healthcheck = runtime.find((i) => i.op === "HEALTHCHECK");
    expect(healthcheck?.args).toContain("/api/health");

    // server.ts compiled by scripts/bundle-server.ts: node runs it, no tsx at run time.
    const cmd = runtime.filter((i) => i.op === "CMD").at(-1);
    expect(JSON.parse(cmd?.args ?? "null")).toEqual(["node", "--max-semi-space-size=4", "dist/server.mjs"]);
    // The image's node flags are `npm start`'s (tests/support/own-armory.ts reads them from there).
    expect(serverNodeFlags()).toEqual(["--max-semi-space-size=4"]);
    const build = all.slice(0, lastFrom).map((i) => `${i.op} ${i.args}`).join("\n");
    expect(build).toContain("scripts/bundle-server.ts");
    // Only the assembled runtime tree comes over from the build stage (no node_modules of the build).
    const copies = runtime.filter((i) => i.op === "COPY" && i.args.includes("--from="));
    expect(copies.map((c) => c.args.split(/\s+/).filter((a) => !a.startsWith("--"))[0])).toEqual(["/app/.next/armory-app"]);

    const user = runtime.filter((i) => i.op === "USER").at(-1);
    expect(user, "runtime stage has no USER").toBeDefined();
    expect(user?.args).not.toMatch(/^(root|0)(:|$)/);

    const env = runtime.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
    expect(env).toContain("ARMORY_BIND_ADDRESS=0.0.0.0");
    expect(env).toContain("ARMORY_DATA_DIR=/data");
    expect(runtime.some((i) => i.op === "EXPOSE" && i.args.split(/\s+/).includes("3000"))).toBe(true);
  });
});

describe(".env.example", () => {
  it("documents every variable src/server/config.ts reads", () => {
    const keys = configEnvVars();
    expect(keys.length, "could not find the config keys in src/server/config.ts").toBeGreaterThanOrEqual(5);
    expect(keys).toContain("DATABASE_URL");
    const example = fs.readFileSync(path.join(root, ".env.example"), "utf8");
    const undocumented = keys.filter((k) => !new RegExp(`^#?\\s*${k}=`, "m").test(example));
    expect(undocumented).toEqual([]);
  });

  it("documents every variable docker-compose.yml interpolates", () => {
    const text = fs.readFileSync(composeFile, "utf8");
    const vars = [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string))];
    expect(vars).toContain("ARMORY_AUTH_SECRET");
    const example = fs.readFileSync(path.join(root, ".env.example"), "utf8");
    expect(vars.filter((k) => !new RegExp(`^#?\\s*${k}=`, "m").test(example))).toEqual([]);
  });
});
