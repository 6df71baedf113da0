import type { Element, Root } from "hast";
import { describe, expect, it } from "vitest";
import { HIGHLIGHTED_LANGUAGES, rehypeHighlightCode } from "./highlight-code";

const block = (lang: string | null, text: string): Root => ({
  type: "root",
  children: [
    {
      type: "element",
      tagName: "pre",
      properties: {},
      children: [{ type: "element", tagName: "code", properties: lang ? { className: [`language-${lang}`] } : {}, children: [{ type: "text", value: text }] }],
    },
  ],
});
const codeOf = (tree: Root) => ((tree.children[0] as Element).children[0] as Element);
const classes = (el: Element): string[] => [
  ...((el.properties?.className as string[] | undefined) ?? []),
  ...el.children.flatMap((c) => (c.type === "element" ? classes(c) : [])),
];

describe("rehypeHighlightCode", () => {
  it("highlights a known language (and its aliases) with hljs classes", () => {
    for (const lang of ["python", "py", "ts", "bash"]) {
      const tree = block(lang, lang.startsWith("p") ? 'def f():\n    return "x"' : lang === "ts" ? "const a: string = 'x';" : "echo hi # comment");
      rehypeHighlightCode()(tree);
      const code = codeOf(tree);
      expect(code.properties?.className).toContain("hljs");
      expect(classes(code).some((c) => c.startsWith("hljs-"))).toBe(true);
    }
  });

  it("leaves unknown languages and blocks without a language as plain text", () => {
    for (const lang of ["cobol", null]) {
      const tree = block(lang, "MOVE 1 TO X.");
      rehypeHighlightCode()(tree);
      expect(codeOf(tree).children).toEqual([{ type: "text", value: "MOVE 1 TO X." }]);
    }
  });

  it("registers only the chosen languages", () => {
    expect(HIGHLIGHTED_LANGUAGES).toEqual(expect.arrayContaining(["python", "typescript", "bash", "json", "yaml"]));
    expect(HIGHLIGHTED_LANGUAGES).not.toContain("kotlin");
    expect(HIGHLIGHTED_LANGUAGES.length).toBe(16);
  });
});
