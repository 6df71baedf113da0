import { describe, expect, it } from "vitest";
import { ConfigError, describeDatabase, loadConfig } from "./config";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("has embedded defaults: port 3000 on 127.0.0.1, PGlite in ./data", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.bindAddress).toBe("127.0.0.1");
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toMatch(/\/data$/);
    expect(describeDatabase(c)).toMatch(/embedded PGlite in .*\/data\/pglite$/);
  });

  it("honours PORT, bind address and DATABASE_URL", () => {
    const c = loadConfig({ PORT: "8080", ARMORY_BIND_ADDRESS: "0.0.0.0", DATABASE_URL: "postgresql://u:pw@db:5433/armory" });
    expect(c.port).toBe(8080);
    expect(c.bindAddress).toBe("0.0.0.0");
    expect(describeDatabase(c)).toBe("PostgreSQL at db:5433/armory");
  });

  it("treats an empty DATABASE_URL as unset", () => {
    expect(loadConfig({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("names the variable and the problem for bad values", () => {
    expect(problems({ PORT: "abc" })).toEqual([expect.stringMatching(/^PORT: must be a number \(got "abc"\)/)]);
    expect(problems({ PORT: "70000" })[0]).toMatch(/PORT: must be between 1 and 65535/);
    expect(problems({ ARMORY_BIND_ADDRESS: "my host" })[0]).toMatch(/ARMORY_BIND_ADDRESS: must be an IP address/);
    expect(problems({ LOG_LEVEL: "loud" })[0]).toMatch(/^LOG_LEVEL:/);
    expect(problems({ ARMORY_PUBLIC_URL: "ftp://x" })[0]).toMatch(/ARMORY_PUBLIC_URL: must be an http\(s\) URL/);
    const all = problems({ PORT: "x", LOG_LEVEL: "y" });
    expect(all).toHaveLength(2);
  });

  it("never echoes secret values in its messages", () => {
    const [dbProblem] = problems({ DATABASE_URL: "mysql://root:hunter2@db/x" });
    expect(dbProblem).toMatch(/DATABASE_URL: must be a postgres/);
    expect(dbProblem).not.toContain("hunter2");
    const [secretProblem] = problems({ ARMORY_AUTH_SECRET: "tooshort-sekrit" });
    expect(secretProblem).toMatch(/ARMORY_AUTH_SECRET: must be at least 32 characters/);
    expect(secretProblem).not.toContain("tooshort-sekrit");
  });

  it("adds ARMORY_GIT_PROVIDERS' hosts to github.com and gitlab.com, naming a bad entry", () => {
    expect(loadConfig({}).gitProviders.map((h) => h.host)).toEqual(["github.com", "gitlab.com"]);
    const c = loadConfig({ ARMORY_GIT_PROVIDERS: "gitlab=git.example.com=https://git.example.com/api/v4" });
    expect(c.gitProviders.at(-1)).toEqual({ kind: "gitlab", host: "git.example.com", apiUrl: "https://git.example.com/api/v4" });
    expect(problems({ ARMORY_GIT_PROVIDERS: "svn=x=https://x" })).toEqual([expect.stringMatching(/^ARMORY_GIT_PROVIDERS: entry "svn=x=https:\/\/x": the kind must be github or gitlab/)]);
  });

  it("picks the runtime (docker by default, or swarm with placement constraints), naming a bad value", () => {
    expect(loadConfig({}).runtime).toEqual({ kind: "docker", constraints: [] });
    const c = loadConfig({ ARMORY_RUNTIME: "swarm", ARMORY_SWARM_CONSTRAINTS: "node.labels.armory==agents, node.role!=manager" });
    expect(c.runtime).toEqual({ kind: "swarm", constraints: ["node.labels.armory==agents", "node.role!=manager"] });
    expect(problems({ ARMORY_RUNTIME: "kubernetes" })[0]).toMatch(/^ARMORY_RUNTIME: must be "docker" \(one engine\) or "swarm"/);
    expect(problems({ ARMORY_SWARM_CONSTRAINTS: "rm -rf /" })[0]).toMatch(/^ARMORY_SWARM_CONSTRAINTS: must be comma-separated placement constraints/);
  });
});
