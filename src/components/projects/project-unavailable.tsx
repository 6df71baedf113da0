import { Ban, FileQuestion, LogIn, RotateCcw, TriangleAlert } from "lucide-react";
import Link from "next/link";
import { UnavailableState } from "@/components/common/unavailable-state";
import { apiErrorCode } from "@/components/projects/project-form";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/trpc/client";

/** What to show instead of a project that cannot be loaded: missing, forbidden, or failing. */
export function ProjectUnavailable({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const code = apiErrorCode(error);
  const view =
    code === "NOT_FOUND" || code === "BAD_REQUEST"
      ? {
          icon: FileQuestion,
          title: "Project not found",
          body: "There is no project at this address. It may have been deleted, or the link may be wrong.",
          retry: false,
        }
      : code === "FORBIDDEN"
        ? {
            icon: Ban,
            title: "You don't have access to this project",
            body: "You are not a member of this project. Ask one of its owners or admins to add you.",
            retry: false,
          }
        : code === "UNAUTHORIZED"
          ? {
              icon: LogIn,
              title: "Your session has ended",
              body: "Sign in again to continue.",
              retry: false,
            }
          : {
              icon: TriangleAlert,
              title: "Could not load this project",
              body: errorMessage(error),
              retry: true,
            };

  return (
    <UnavailableState
      icon={view.icon}
      title={view.title}
      headingLevel={1}
      description={view.body}
      className="mx-auto w-full max-w-6xl flex-1 px-4 py-20 sm:px-6"
    >
      <div className="flex gap-3">
        {view.retry && onRetry ? (
          <Button variant="outline" onClick={onRetry}>
            <RotateCcw aria-hidden="true" />
            Try again
          </Button>
        ) : null}
        {code === "UNAUTHORIZED" ? (
          <Button asChild>
            <Link href="/sign-in">Sign in</Link>
          </Button>
        ) : (
          <Button asChild>
            <Link href="/">Back to projects</Link>
          </Button>
        )}
      </div>
    </UnavailableState>
  );
}
