import { CircleAlert, Crown, MailPlus } from "lucide-react";
import Link from "next/link";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { roleLabel } from "@/components/projects/role-badge";
import type { ProjectRole } from "@/server/domain/roles";

export interface InvitationView {
  projectName: string;
  role: ProjectRole;
  emailRestricted: boolean;
}

/** What an invitation link offers, or that it is not valid (without saying why). */
export function InvitationNotice({ kind, invitation, signInHref }: { kind: "valid" | "invalid"; invitation?: InvitationView; signInHref?: string }) {
  if (kind === "invalid" || !invitation) {
    return (
      <Alert variant="destructive" className="border-destructive/30 bg-destructive/5" data-testid="invitation-invalid">
        <CircleAlert aria-hidden="true" />
        <AlertTitle className="line-clamp-none">This invitation is invalid or has expired.</AlertTitle>
        <AlertDescription>
          Invitations work once and for a limited time.
          {signInHref ? (
            <Link href={signInHref} className="text-foreground font-medium underline underline-offset-4">
              Sign in
            </Link>
          ) : null}
        </AlertDescription>
      </Alert>
    );
  }
  return (
    <Alert className="mb-5" data-testid="invitation-notice">
      <MailPlus aria-hidden="true" />
      <AlertTitle className="line-clamp-none">
        You are invited to {invitation.projectName} as {roleLabel(invitation.role).toLowerCase()}.
      </AlertTitle>
      {invitation.emailRestricted ? <AlertDescription>Use the email address the invitation was sent to.</AlertDescription> : null}
    </Alert>
  );
}

const TEXT = {
  first: {
    title: "This first account becomes the instance admin.",
    body: "It manages users, invitations and model providers. Everyone after it needs an invitation (unless the admin configured otherwise).",
  },
  invite: {
    title: "Sign-up is by invitation.",
    body: "Ask this Armory's admin or a project owner for an invitation link, then open it.",
  },
  closed: {
    title: "Sign-up is closed on this Armory.",
    body: "Ask its admin for an account.",
  },
  "closed-invited": {
    title: "Sign-up is closed on this Armory.",
    body: "This invitation is for people who already have an account: sign in, then open the link again to join the project.",
  },
} as const;

export function SignUpNotice({ kind }: { kind: keyof typeof TEXT }) {
  const Icon = kind === "first" ? Crown : MailPlus;
  return (
    <Alert className={kind === "first" ? "mb-5" : undefined} data-testid={`sign-up-${kind}`}>
      <Icon aria-hidden="true" />
      <AlertTitle className="line-clamp-none">{TEXT[kind].title}</AlertTitle>
      <AlertDescription>{TEXT[kind].body}</AlertDescription>
    </Alert>
  );
}
