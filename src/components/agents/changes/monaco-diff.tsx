"use client";
// Monaco's side-by-side diff (HEAD on the left, the working tree on the right), read-only. The
// import of the file editor's module configures Monaco's local bundle and workers once.
import { DiffEditor } from "@monaco-editor/react";
import "@/components/files/monaco-editor";

export interface MonacoDiffProps {
  path: string;
  original: string;
  modified: string;
  language: string;
  dark: boolean;
}

export default function MonacoDiff({ path, original, modified, language, dark }: MonacoDiffProps) {
  return (
    <DiffEditor
      height="100%"
      original={original}
      modified={modified}
      language={language}
      originalModelPath={`head://${path}`}
      modifiedModelPath={`work://${path}`}
      theme={dark ? "vs-dark" : "light"}
      options={{ readOnly: true, originalEditable: false, renderSideBySide: true, minimap: { enabled: false }, scrollBeyondLastLine: false, automaticLayout: true, fontSize: 13 }}
    />
  );
}
