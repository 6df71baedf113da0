// "Restart required" says why: the stored config hash is field-wise, so a difference names the
// change; a container made under the earlier single hash is not flagged when nothing changed.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { agentConfigHash, restartReasons } from "./manager";

const base = { image: "armory-agent:1", model: "claude-sonnet", permissionMode: "acceptEdits" };
const env = { A: "1", B: "2" };
const row = (over: Partial<typeof base> & { hash?: string | null; secretsStale?: boolean; containerId?: string | null } = {}) => ({
  containerId: over.containerId === undefined ? "c1" : over.containerId,
  containerConfigHash: over.hash === undefined ? agentConfigHash({ ...base, env }) : over.hash,
  secretsStale: over.secretsStale ?? false,
  image: over.image ?? base.image,
  model: over.model ?? base.model,
  permissionMode: over.permissionMode ?? base.permissionMode,
});

describe("restartReasons", () => {
  it("is empty when the container runs the current config, or when there is no container", () => {
    expect(restartReasons(row(), env)).toEqual([]);
    expect(restartReasons(row(), { B: "2", A: "1" })).toEqual([]);
    expect(restartReasons(row({ containerId: null, secretsStale: true }), { X: "1" })).toEqual([]);
  });

  it("names each change", () => {
    expect(restartReasons(row({ model: "claude-opus" }), env)).toEqual(["model"]);
    expect(restartReasons(row({ permissionMode: "plan" }), env)).toEqual(["permissionMode"]);
    expect(restartReasons(row(), { ...env, C: "3" })).toEqual(["env"]);
    expect(restartReasons(row({ image: "armory-agent:2", secretsStale: true }), env)).toEqual(["image", "secrets"]);
    expect(restartReasons(row({ hash: agentConfigHash({ ...base, env }).replace(/^L\d+/, "L1") }), env)).toEqual(["layout"]);
  });

  it("accepts the earlier single hash when nothing changed, and says 'config' when it differs", () => {
    // Key order as the earlier code hashed it: image, env, model, permissionMode, layout.
    const legacyOrdered = createHash("sha256")
      .update(JSON.stringify({ image: base.image, env: Object.entries(env), model: base.model, permissionMode: base.permissionMode, layout: 2 }))
      .digest("hex")
      .slice(0, 16);
    expect(restartReasons(row({ hash: legacyOrdered }), env)).toEqual([]);
    expect(restartReasons(row({ hash: "0123456789abcdef" }), env)).toEqual(["config"]);
  });
});
