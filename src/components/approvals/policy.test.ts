import { describe, expect, it } from "vitest";
import { formatCountdown, formatTimeout, outcomeText } from "./format";
import { checkToolPolicy, parseRuleLines, parseTimeout, policyToText, samePolicy } from "./policy";

describe("tool policy form", () => {
  it("takes one rule per line, trims, drops empty lines and repeats", () => {
    expect(parseRuleLines(" Bash(git status:*) \n\nWrite\nWrite\nEdit(/workspace/src/**)\nmcp__github__create_issue\nWebFetch(domain:example.com)")).toEqual({
      ok: true,
      rules: ["Bash(git status:*)", "Write", "Edit(/workspace/src/**)", "mcp__github__create_issue", "WebFetch(domain:example.com)"],
    });
  });

  it("names the line and the rule that is not a permission rule", () => {
    const r = parseRuleLines("Bash\nrm -rf /\n");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^Line 2 \(rm -rf \/\): a permission rule is a tool name/);
    expect(parseRuleLines("Bash(unclosed").ok).toBe(false);
    expect(parseRuleLines("x".repeat(501)).ok).toBe(false);
  });

  it("checks the three lists and reports per list", () => {
    expect(checkToolPolicy({ allow: "Read", ask: "Bash", deny: "" })).toEqual({ ok: true, policy: { allow: ["Read"], ask: ["Bash"], deny: [] } });
    const bad = checkToolPolicy({ allow: "Read", ask: "two words", deny: "(x)" });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && Object.keys(bad.errors).sort()).toEqual(["ask", "deny"]);
    expect(policyToText({ allow: ["A", "B"], ask: [], deny: ["C"] })).toEqual({ allow: "A\nB", ask: "", deny: "C" });
    expect(samePolicy({ allow: ["A"], ask: [], deny: [] }, { allow: ["A"], ask: [], deny: [] })).toBe(true);
    expect(samePolicy({ allow: ["A"], ask: [], deny: [] }, { allow: [], ask: ["A"], deny: [] })).toBe(false);
    expect(samePolicy(null, null)).toBe(true);
  });

  it("reads the timeout in seconds within the contract's bounds; empty is the default", () => {
    expect(parseTimeout("")).toEqual({ ok: true, value: null });
    expect(parseTimeout("120")).toEqual({ ok: true, value: 120 });
    expect(parseTimeout("2").ok).toBe(false);
    expect(parseTimeout("100000").ok).toBe(false);
    expect(parseTimeout("ten").ok).toBe(false);
  });
});

describe("approval words", () => {
  it("counts down in human units", () => {
    expect(formatCountdown(41_200)).toBe("42 s");
    expect(formatCountdown(598_000)).toBe("9 min 58 s");
    expect(formatCountdown(600_000)).toBe("10 min");
    expect(formatCountdown(3_900_000)).toBe("1 h 5 min");
    expect(formatCountdown(-5)).toBe("0 s");
    expect(formatTimeout(600)).toBe("10 minutes");
    expect(formatTimeout(86_400)).toBe("1 day");
    expect(formatTimeout(90)).toBe("1 min 30 s");
  });

  it("says who decided and how it ended", () => {
    expect(outcomeText("allowed", { kind: "user", id: "u", name: "Ada" }, null)).toBe("Allowed by Ada");
    expect(outcomeText("denied", { kind: "token", id: "t", name: "token ci-bot" }, "not now")).toBe("Denied by token ci-bot: “not now”");
    expect(outcomeText("denied", { kind: "token", id: "t", name: "ci-bot" }, null)).toBe("Denied by token ci-bot");
    expect(outcomeText("allowed", { kind: "rule", id: null, name: "rule" }, null, "Bash(ls:*)")).toBe("Allowed by the remembered rule Bash(ls:*)");
    expect(outcomeText("expired", { kind: "timeout", id: null, name: "timeout" }, null)).toMatch(/^Timed out/);
  });
});

describe("the template form's tool policy", async () => {
  const { checkTemplateForm, emptyTemplateForm } = await import("@/components/templates/template-form");
  it("sends the three lists and refuses a line that is not a rule, at its list", () => {
    const base = { ...emptyTemplateForm(), name: "gated" };
    const ok = checkTemplateForm({ ...base, policyAsk: "Bash\nWrite", policyDeny: "Bash(sudo:*)" });
    expect(ok.ok && ok.payload.toolPolicy).toEqual({ allow: [], ask: ["Bash", "Write"], deny: ["Bash(sudo:*)"] });
    const bad = checkTemplateForm({ ...base, policyAllow: "Read\nnot a rule" });
    expect(!bad.ok && bad.errors.policyAllow).toMatch(/^Line 2 \(not a rule\)/);
  });
});
