// The demo model's script: it quotes the user's words, never the <system-reminder> blocks Claude
// Code adds to user turns, and answers a message about markdown with a Markdown sample.
import { describe, expect, it } from "vitest";
import { demoReply, MARKDOWN_SAMPLE, stripSystemReminders, type MessagesRequest } from "./demo-model";

const REMINDER = "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# claudeMd\nSECRET-ISH CONTEXT\n</system-reminder>";

function replyText(req: MessagesRequest): string {
  const r = demoReply(req);
  return r.blocks.map((b) => (b.type === "text" ? b.text : "")).join("");
}

describe("demo model", () => {
  it("strips system-reminder blocks wherever they are, closed or not", () => {
    expect(stripSystemReminders(`${REMINDER}\nhello`)).toBe("hello");
    expect(stripSystemReminders(`hello\n\n${REMINDER}\n\nworld`)).toBe("hello\n\nworld");
    expect(stripSystemReminders("before <system-reminder>never closed")).toBe("before");
    expect(stripSystemReminders("no reminders here")).toBe("no reminders here");
  });

  it("never echoes system-reminder blocks: in their own text block, inside the user's block, or in string content", () => {
    const shapes: MessagesRequest["messages"][] = [
      [{ role: "user", content: [{ type: "text", text: REMINDER }, { type: "text", text: "What is up?" }] }],
      [{ role: "user", content: [{ type: "text", text: `What is up?\n${REMINDER}` }] }],
      [{ role: "user", content: `${REMINDER}\nWhat is up?` }],
    ];
    for (const messages of shapes) {
      const text = replyText({ messages, tools: [] });
      expect(text).toContain('You said: "What is up?"');
      expect(text).not.toContain("system-reminder");
      expect(text).not.toContain("SECRET-ISH CONTEXT");
    }
  });

  it("does not quote a reminder as an earlier message either", () => {
    const text = replyText({
      messages: [
        { role: "user", content: [{ type: "text", text: "first question" }, { type: "text", text: REMINDER }] },
        { role: "assistant", content: [{ type: "text", text: "an answer" }] },
        { role: "user", content: [{ type: "text", text: REMINDER }, { type: "text", text: "second question" }] },
      ],
    });
    expect(text).toContain('Earlier in this conversation you said: "first question"');
    expect(text).not.toContain("SECRET-ISH CONTEXT");
  });

  it("answers a message about markdown with a heading, a fenced code block with a language, a table and a link", () => {
    const text = replyText({ messages: [{ role: "user", content: [{ type: "text", text: "Show me some Markdown please" }] }] });
    expect(text).toBe(MARKDOWN_SAMPLE);
    expect(text).toMatch(/^## /m);
    expect(text).toMatch(/^```python$/m);
    expect(text).toMatch(/^\| --- \| --- \|$/m);
    expect(text).toMatch(/\[[^\]]+\]\(https:\/\/[^)]+\)/);
  });
});
