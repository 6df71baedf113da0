// Which format the logger writes (pretty on a terminal, JSON otherwise), and that secrets are
// redacted in the pretty output too.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, resolveLogFormat } from "./logger";

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("log format", () => {
  it("auto is pretty on a terminal and JSON on a pipe; an explicit format wins", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("writes human-readable lines on a terminal, with secrets redacted", () => {
    const out = capture();
    const log = createLogger({ level: "info", format: "auto", stdoutIsTTY: true, destination: out.stream });
    log.info({ token: "arm_supersecret", headers: { authorization: "Bearer s3cr3t-value" }, secretEnv: { K: "hidden-value" }, agentId: "a1" }, "agent started");
    const text = out.text();
    expect(text).toMatch(/INFO/);
    expect(text).toContain("agent started");
    expect(text).toContain("a1");
    expect(() => JSON.parse(text.split("\n")[0]!)).toThrow();
    expect(text).toContain("[redacted]");
    for (const secret of ["arm_supersecret", "s3cr3t-value", "hidden-value"]) expect(text).not.toContain(secret);
  });

  it("writes one JSON object per line when stdout is not a terminal, with secrets redacted", () => {
    const out = capture();
    const log = createLogger({ level: "info", format: "auto", stdoutIsTTY: false, destination: out.stream });
    log.info({ password: "hunter2", agentId: "a1" }, "signed in");
    const line = JSON.parse(out.text().trim().split("\n")[0]!);
    expect(line).toMatchObject({ msg: "signed in", agentId: "a1", password: "[redacted]" });
  });
});
