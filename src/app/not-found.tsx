import type { Metadata } from "next";
import Link from "next/link";
import { Compass } from "lucide-react";
import { Wordmark } from "@/components/brand/wordmark";
import { Button } from "@/components/ui/button";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-8 px-6 py-16 text-center">
      <Link href="/" aria-label="Armory home">
        <Wordmark />
      </Link>
      <div className="flex flex-col items-center gap-3">
        <div className="bg-muted text-muted-foreground flex size-12 items-center justify-center rounded-full">
          <Compass className="size-6" aria-hidden="true" />
        </div>
        <p className="text-muted-foreground font-mono text-sm">404</p>
        <h1 className="text-2xl font-semibold tracking-tight">Page not found</h1>
        <p className="text-muted-foreground max-w-sm text-sm">
          The page you are looking for does not exist or has moved.
        </p>
      </div>
      <Button asChild>
        <Link href="/">Back to projects</Link>
      </Button>
    </main>
  );
}
