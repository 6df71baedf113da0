// Syntax highlighting for fenced code blocks in chat replies: a small rehype plugin over
// lowlight (highlight.js producing hast) with a fixed set of common languages. rehype-highlight
// does the same but always bundles lowlight's 37 "common" grammars (its default), even when
// given its own list: about 190 kB (gzip) in the agent page's chunk. Blocks without a language,
// or with one not registered here, stay plain text.
import type { Element, ElementContent, Root, RootContent } from "hast";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { createLowlight } from "lowlight";

const lowlight = createLowlight({ bash, css, diff, dockerfile, go, ini, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml });
lowlight.registerAlias({
  bash: ["sh", "zsh"],
  javascript: ["js", "jsx", "mjs", "cjs"],
  typescript: ["ts", "tsx"],
  python: ["py"],
  yaml: ["yml"],
  ini: ["toml"],
  xml: ["html", "svg"],
  shell: ["console"],
  markdown: ["md"],
  rust: ["rs"],
  dockerfile: ["docker"],
});

/** The languages code blocks are highlighted in (their names and aliases). */
export const HIGHLIGHTED_LANGUAGES = lowlight.listLanguages();

function textOf(node: ElementContent | RootContent): string {
  if (node.type === "text") return node.value;
  if (node.type === "element") return node.children.map(textOf).join("");
  return "";
}

function classesOf(el: Element): string[] {
  const c: unknown = el.properties?.className;
  return Array.isArray(c) ? c.map(String) : typeof c === "string" ? c.split(/\s+/) : [];
}

function highlightBlock(pre: Element): void {
  const code = pre.children.find((c): c is Element => c.type === "element" && c.tagName === "code");
  if (!code) return;
  const classes = classesOf(code);
  const lang = classes.find((c) => c.startsWith("language-"))?.slice("language-".length);
  if (!lang || !lowlight.registered(lang)) return;
  const tree = lowlight.highlight(lang, textOf(code));
  code.children = tree.children as ElementContent[];
  code.properties = { ...code.properties, className: [...classes, "hljs"] };
}

function walk(node: Root | Element): void {
  for (const child of node.children) {
    if (child.type !== "element") continue;
    if (child.tagName === "pre") highlightBlock(child);
    else walk(child);
  }
}

/** The rehype plugin: highlights every `pre > code.language-*` it knows the language of. */
export function rehypeHighlightCode() {
  return (tree: Root) => walk(tree);
}
