"use client";
// The project's OpenAI-compatible endpoint (src/server/openai): its base URL, the model ids (the
// agents' names) and copy-paste examples with curl and the `openai` npm client.
import { useQuery } from "@tanstack/react-query";
import { Check, Copy, PlugZap } from "lucide-react";
import Link from "next/link";
import { useRef, useState, useSyncExternalStore } from "react";
import { openaiBasePath } from "@/contracts/openai";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";

const noSubscribe = () => () => {};

/** This page's origin (what the browser addressed): the server render has none. */
function useOrigin(): string | null {
  return useSyncExternalStore(
    noSubscribe,
    () => window.location.origin,
    () => null,
  );
}

function Snippet({ label, text }: { label: string; text: string }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (no permission, insecure context): select the text so it can be copied by hand.
      const range = document.createRange();
      if (pre.current) range.selectNodeContents(pre.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
    }
  }
  return (
    <div className="overflow-hidden rounded-md border" data-testid="openai-snippet">
      <div className="bg-muted/50 flex items-center justify-between border-b py-1 pr-1 pl-3 text-xs">
        <span className="font-medium">{label}</span>
        <Button type="button" variant="ghost" size="sm" className="h-7" onClick={() => void copy()} aria-label={copied ? "Copied" : `Copy ${label}`}>
          {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      {/* Focusable: a wide block scrolls sideways by keyboard too. */}
      <pre ref={pre} tabIndex={0} aria-label={label} className="overflow-x-auto p-3 font-mono text-xs leading-relaxed outline-none focus-visible:ring-2">
        {text}
      </pre>
    </div>
  );
}

export function OpenaiEndpointCard({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const agents = useQuery(trpc.agent.list.queryOptions({ projectId }));
  const origin = useOrigin();
  const baseUrl = `${origin ?? ""}${openaiBasePath(projectId)}`;
  const names = (agents.data ?? []).map((a) => a.name).sort();
  const model = names[0] ?? "AGENT_NAME";
  const curl = [
    `curl ${baseUrl}/chat/completions \\`,
    `  -H "Authorization: Bearer $ARMORY_TOKEN" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello"}]}'`,
  ].join("\n");
  const node = [
    `import OpenAI from "openai";`,
    ``,
    `const client = new OpenAI({`,
    `  baseURL: "${baseUrl}",`,
    `  apiKey: process.env.ARMORY_TOKEN,`,
    `});`,
    ``,
    `const stream = await client.chat.completions.create({`,
    `  model: "${model}",`,
    `  messages: [{ role: "user", content: "Hello" }],`,
    `  user: "ticket-42", // same user, same conversation`,
    `  stream: true,`,
    `});`,
    `for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");`,
  ].join("\n");

  return (
    <Card data-testid="openai-endpoint">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <PlugZap className="size-4" aria-hidden="true" />
          <h2>OpenAI-compatible endpoint</h2>
        </CardTitle>
        <CardDescription>
          Any OpenAI client can talk to this project&apos;s agents: the model is the agent&apos;s name, the API key a machine token with the
          chat permission on that agent (
          <Link className="underline underline-offset-2" href="/settings/tokens">
            create a token
          </Link>
          ; operators and above may chat, others need a{" "}
          <Link className="underline underline-offset-2" href={`/projects/${projectId}/access`}>
            trust grant
          </Link>
          ). Each call is a chat turn in a conversation of that agent: the same <code className="font-mono">user</code> value (or an{" "}
          <code className="font-mono">X-Armory-Session</code> header) continues one conversation.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <dl className="grid gap-x-4 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          <dt className="text-muted-foreground">Base URL</dt>
          <dd className="font-mono break-all" data-testid="openai-base-url">
            {origin ? baseUrl : <Skeleton className="h-4 w-64" />}
          </dd>
          <dt className="text-muted-foreground">Models</dt>
          <dd data-testid="openai-models">
            {agents.isPending ? (
              <Skeleton className="h-4 w-40" />
            ) : names.length ? (
              <ul className="flex flex-wrap gap-2">
                {names.map((n) => (
                  <li key={n} className="bg-muted rounded px-1.5 py-0.5 font-mono text-xs">
                    {n}
                  </li>
                ))}
              </ul>
            ) : agents.isError ? null : (
              <span className="text-muted-foreground">No agents yet: each agent you create becomes a model.</span>
            )}
          </dd>
        </dl>
        {agents.isError ? <QueryErrorAlert title="Could not load the agents" error={agents.error} onRetry={() => void agents.refetch()} /> : null}
        {origin ? (
          <>
            <Snippet label="curl" text={curl} />
            <Snippet label="Node (openai npm package)" text={node} />
          </>
        ) : null}
      </CardContent>
    </Card>
  );
}
