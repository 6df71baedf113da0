import { describe, expect, it } from "vitest";
import { PREWARM_MIN_MEMORY_MB, prewarmFits, prewarmKey, type PrewarmPlan } from "./warm-pool";

const base: PrewarmPlan["options"] = {
  agentId: "agent-1",
  warm: true,
  permissionMode: "acceptEdits",
  allowedTools: ["Read"],
  toolPolicy: { allow: [], ask: [], deny: [] },
  model: "claude-sonnet-4-5",
  systemPrompt: "soul",
  env: { A: "1", ANTHROPIC_API_KEY: "armgw_secret-token" },
  cwd: undefined,
  cli: "claude",
};

describe("pre-warmed process key", () => {
  it("is the same for the same settings, whatever the order of the environment", () => {
    expect(prewarmKey(base, "c1")).toBe(prewarmKey({ ...base, env: { ANTHROPIC_API_KEY: "armgw_secret-token", A: "1" } }, "c1"));
  });

  it("changes with every setting a process is started with, and never carries the token", () => {
    const key = prewarmKey(base, "c1");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain("secret");
    const changed: PrewarmPlan["options"][] = [
      { ...base, agentId: "agent-2" },
      { ...base, warm: false },
      { ...base, permissionMode: "default" },
      { ...base, allowedTools: ["Read", "Bash"] },
      { ...base, toolPolicy: { allow: [], ask: [], deny: ["Bash"] } },
      { ...base, model: "claude-opus-4-1" },
      { ...base, systemPrompt: "another soul" },
      { ...base, env: { ...base.env, ANTHROPIC_API_KEY: "armgw_rotated" } },
      { ...base, cwd: "/workspace/.armory/worktrees/s1" },
      { ...base, cli: "/tmp/fake-claude" },
    ];
    for (const o of changed) expect(prewarmKey(o, "c1")).not.toBe(key);
    expect(prewarmKey(base, "c2")).not.toBe(key); // another container
  });
});

describe("pre-warmed process and the agent's memory limit", () => {
  it("is kept only where an idle process (about 150 MB) leaves room for a turn beside it", () => {
    expect(PREWARM_MIN_MEMORY_MB).toBe(512);
    expect(prewarmFits(128)).toBe(false);
    expect(prewarmFits(511)).toBe(false);
    expect(prewarmFits(512)).toBe(true);
    expect(prewarmFits(2048)).toBe(true);
  });
});
