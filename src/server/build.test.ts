import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUILT_CONFIG_ENV, applyBuiltNextConfig } from "./build";

describe("applyBuiltNextConfig", () => {
  const saved = process.env[BUILT_CONFIG_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[BUILT_CONFIG_ENV];
    else process.env[BUILT_CONFIG_ENV] = saved;
  });

  it("hands Next the config the build stored, so next.config.ts is not loaded", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-build-"));
    fs.mkdirSync(path.join(root, ".next"));
    const config = { output: "standalone", poweredByHeader: false, serverExternalPackages: ["pg"] };
    fs.writeFileSync(path.join(root, ".next", "required-server-files.json"), JSON.stringify({ version: 1, config, files: [] }));
    applyBuiltNextConfig(root);
    expect(JSON.parse(process.env[BUILT_CONFIG_ENV]!)).toEqual(config);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("leaves Next to load next.config.ts when there is no build", () => {
    delete process.env[BUILT_CONFIG_ENV];
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-build-"));
    applyBuiltNextConfig(root);
    expect(process.env[BUILT_CONFIG_ENV]).toBeUndefined();
    fs.rmSync(root, { recursive: true, force: true });
  });
});
