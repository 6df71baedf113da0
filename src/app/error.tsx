"use client";
// The friendly error boundary for every page: says what happened in plain words, offers a retry,
// and shows only the error's digest (a reference the server log carries), never a stack.
import Link from "next/link";
import { useEffect } from "react";
import { RotateCcw, TriangleAlert } from "lucide-react";
import { Wordmark } from "@/components/brand/wordmark";
import { Button } from "@/components/ui/button";

export default function ErrorBoundary({
  error,
  retry,
}: {
  error: Error & { digest?: string };
  retry: () => void;
}) {
  useEffect(() => {
    // Keep the details in the browser console for whoever debugs; the page stays friendly.
    console.error(error);
  }, [error]);

  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-8 px-6 py-16 text-center">
      <Link href="/" aria-label="Armory home">
        <Wordmark />
      </Link>
      <div role="alert" className="flex flex-col items-center gap-3">
        <div className="bg-destructive/10 text-destructive flex size-12 items-center justify-center rounded-full">
          <TriangleAlert className="size-6" aria-hidden="true" />
        </div>
        <h1 className="text-2xl font-semibold tracking-tight">Something went wrong</h1>
        <p className="text-muted-foreground max-w-md text-sm">
          Armory could not show this page. This is usually temporary: try again, and if it keeps happening
          check that the server and its database are running.
        </p>
        {error.digest ? (
          <p className="text-muted-foreground text-xs">
            Reference: <code className="font-mono">{error.digest}</code>
          </p>
        ) : null}
      </div>
      <div className="flex gap-3">
        <Button onClick={() => retry()}>
          <RotateCcw aria-hidden="true" />
          Try again
        </Button>
        <Button variant="outline" asChild>
          <Link href="/">Go to projects</Link>
        </Button>
      </div>
    </main>
  );
}
