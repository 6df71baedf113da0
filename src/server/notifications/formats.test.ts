// Webhook bodies and the Armory signature, without a network: each format's shape, links made
// absolute only with a public URL, and the HMAC over "<timestamp>.<body>".
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { renderBody, signature, storedEvent } from "./formats";
import { parseWebhookUrl, WebhookUrlError } from "./send";

const event = storedEvent({
  type: "turn.failed",
  projectId: "p1",
  agentId: "a1",
  agentName: "builder",
  at: new Date("2026-12-06T01:02:03Z"),
  path: "/projects/p1/agents/a1?session=s1",
  sessionId: "s1",
  runId: "r1",
  reason: "process_oom",
  error: "Claude Code was killed: out of memory",
});

describe("webhook formats", () => {
  it("renders Armory JSON with the event's fields, the project and an absolute link", () => {
    const body = JSON.parse(renderBody("armory", event, { deliveryId: "d1", projectName: "Web", publicUrl: "https://armory.example.com" })) as Record<string, unknown>;
    expect(body).toEqual({
      id: "d1",
      type: "turn.failed",
      at: "2026-12-06T01:02:03.000Z",
      project: { id: "p1", name: "Web" },
      agent: { id: "a1", name: "builder" },
      url: "https://armory.example.com/projects/p1/agents/a1?session=s1",
      path: "/projects/p1/agents/a1?session=s1",
      sessionId: "s1",
      runId: "r1",
      reason: "process_oom",
      error: "Claude Code was killed: out of memory",
    });
  });

  it("renders Slack and Discord bodies; without a public URL there is no link", () => {
    const slack = JSON.parse(renderBody("slack", event, { deliveryId: "d1", projectName: "Web", publicUrl: undefined })) as { text: string; blocks: { type: string }[] };
    expect(slack.text).toBe("Turn failed: project Web, agent builder: Claude Code was killed: out of memory");
    expect(slack.blocks.map((b) => b.type)).toEqual(["header", "section"]);
    const discord = JSON.parse(renderBody("discord", event, { deliveryId: "d1", projectName: "Web", publicUrl: "https://a.example" })) as { content: string; embeds: Record<string, unknown>[] };
    expect(discord.content).toBe("**Turn failed**");
    expect(discord.embeds[0]).toMatchObject({ title: "Turn failed", url: "https://a.example/projects/p1/agents/a1?session=s1", timestamp: "2026-12-06T01:02:03.000Z" });
  });

  it("signs '<timestamp>.<body>' with HMAC-SHA256", () => {
    const sig = signature("k3y", "1796500000", '{"a":1}');
    expect(sig).toBe(`sha256=${createHmac("sha256", "k3y").update('1796500000.{"a":1}').digest("hex")}`);
    expect(signature("k3y", "1796500001", '{"a":1}')).not.toBe(sig);
  });

  it("accepts only http(s) URLs without credentials", () => {
    expect(parseWebhookUrl(" https://hooks.example.com/x ").href).toBe("https://hooks.example.com/x");
    expect(() => parseWebhookUrl("file:///etc/passwd")).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl("https://user:pw@hooks.example.com/")).toThrow(/user name or password/);
    expect(() => parseWebhookUrl("hooks.example.com")).toThrow(/not a valid URL/);
  });
});
