"use client";
// Monaco, bundled from the local monaco-editor package (never from a CDN: Armory runs offline),
// with its web workers built by the bundler. Loaded only through next/dynamic (code-editor.tsx),
// so other pages never carry it.
import Editor, { loader, type OnMount } from "@monaco-editor/react";
import * as monaco from "monaco-editor";
import { useEffect, useRef } from "react";

type WorkerFactory = { getWorker(workerId: string, label: string): Worker };

if (typeof window !== "undefined") {
  (self as unknown as { MonacoEnvironment: WorkerFactory }).MonacoEnvironment = {
    getWorker(_workerId, label) {
      switch (label) {
        case "json":
          return new Worker(new URL("monaco-editor/language/json/json.worker.js", import.meta.url), { type: "module" });
        case "css":
        case "scss":
        case "less":
          return new Worker(new URL("monaco-editor/language/css/css.worker.js", import.meta.url), { type: "module" });
        case "html":
        case "handlebars":
        case "razor":
          return new Worker(new URL("monaco-editor/language/html/html.worker.js", import.meta.url), { type: "module" });
        case "typescript":
        case "javascript":
          return new Worker(new URL("monaco-editor/language/typescript/ts.worker.js", import.meta.url), { type: "module" });
        default:
          return new Worker(new URL("monaco-editor/editor/editor.worker.js", import.meta.url), { type: "module" });
      }
    },
  };
  loader.config({ monaco });
}

export interface MonacoEditorProps {
  path: string;
  /**
   * The text to show, set only when it changes identity (open, revert, reload): the editor is
   * uncontrolled while typing, so fast keystrokes are never overwritten by a late re-render.
   */
  content: { text: string };
  language: string;
  readOnly: boolean;
  dark: boolean;
  onChange(value: string): void;
  onSave(): void;
}

export default function MonacoEditor({ path, content, language, readOnly, dark, onChange, onSave }: MonacoEditorProps) {
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const contentRef = useRef(content);
  useEffect(() => {
    contentRef.current = content;
    const ed = editorRef.current;
    if (ed && ed.getValue() !== content.text) ed.setValue(content.text);
  }, [content]);
  const onMount: OnMount = (editor, m) => {
    editorRef.current = editor;
    if (editor.getValue() !== contentRef.current.text) editor.setValue(contentRef.current.text);
    editor.addCommand(m.KeyMod.CtrlCmd | m.KeyCode.KeyS, () => onSave());
  };
  return (
    <Editor
      path={path}
      defaultValue={content.text}
      language={language}
      theme={dark ? "vs-dark" : "vs"}
      onChange={(v) => onChange(v ?? "")}
      onMount={onMount}
      loading={<div className="text-muted-foreground p-4 text-sm">Loading the editor…</div>}
      options={{
        readOnly,
        minimap: { enabled: false },
        fontSize: 13,
        scrollBeyondLastLine: false,
        automaticLayout: true,
        wordWrap: language === "markdown" || language === "plaintext" ? "on" : "off",
        tabSize: 2,
      }}
    />
  );
}
