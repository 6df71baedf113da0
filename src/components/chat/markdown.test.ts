// A reply is untrusted text (the model, or whatever a tool returned): rendering it must never run
// script, follow an unsafe scheme, or make the browser fetch from another host.
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "./markdown";

const render = (text: string) => renderToStaticMarkup(createElement(Markdown, { text }));

describe("Markdown (a reply)", () => {
  it("shows raw HTML as text, never as elements", () => {
    const html = render('Hello <script>alert(1)</script> and <img src="https://tracker.example/x.png" onerror="alert(2)">');
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("drops javascript: and data: links; other links open without access to this page", () => {
    const html = render("[a](javascript:alert(1)) [b](data:text/html,<b>x</b>) [c](https://example.com/docs)");
    expect(html).not.toMatch(/href="(javascript|data):/i);
    expect(html).toContain('href="https://example.com/docs" target="_blank" rel="noopener noreferrer"');
  });

  it("turns images into links: the browser fetches nothing", () => {
    const html = render("![diagram](https://tracker.example/pixel.png)");
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('href="https://tracker.example/pixel.png"');
    expect(html).toContain("image: diagram");
  });

  it("renders headings, tables and highlighted code", () => {
    const html = render("## Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```ts\nconst x = 1;\n```");
    expect(html).toContain("<h2>Title</h2>");
    expect(html).toContain("<table");
    expect(html).toMatch(/class="[^"]*hljs[^"]*language-ts|language-ts[^"]*hljs/);
  });
});
