import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { AcceptInvitation } from "@/components/auth/accept-invitation";
import { InvitationNotice, SignUpNotice } from "@/components/auth/sign-up-notices";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { authPageHref, safeNextPath } from "@/components/auth/safe-next";
import { AuthCard, type AuthPageProps } from "@/app/(auth)/auth-page";
import { getPageSession } from "@/server/auth/session";
import { previewInvitation } from "@/server/instance/invitations";
import { getServices } from "@/server/services-registry";

export const metadata: Metadata = { title: "Create account" };

// The sign-up page honours ARMORY_SIGN_UP: the first account (the instance admin) always gets the
// form; after it, an invitation link (`?invite=<token>`) gets the form in invite and open mode,
// and the plain page gets the form only in open mode. The server refuses the rest anyway.
export default async function SignUpPage({ searchParams }: AuthPageProps) {
  // Request-time only: `next build` must never open the database by prerendering this.
  await connection();
  const params = await searchParams;
  const invite = typeof params.invite === "string" && params.invite ? params.invite.slice(0, 200) : null;
  const services = await getServices();
  const prisma = services.db.prisma;
  const session = await getPageSession();
  const preview = invite ? await previewInvitation(prisma, invite) : null;
  const invitation = preview ? { projectName: preview.projectName, role: preview.role, emailRestricted: preview.emailRestricted } : null;

  if (session) {
    if (!invite) redirect(safeNextPath(params.next));
    return (
      <AuthCard title="Join a project" description={`Signed in as ${session.user.email}.`}>
        {invitation && invite ? <AcceptInvitation token={invite} invitation={invitation} /> : <InvitationNotice kind="invalid" />}
      </AuthCard>
    );
  }

  const mode = services.config.signUp;
  const firstAccount = !(await prisma.user.findFirst({ select: { id: true } }));
  const signInBack = authPageHref("/sign-in", invite ? `/sign-up?invite=${encodeURIComponent(invite)}` : "/");

  if (invite && !invitation) {
    return (
      <AuthCard title="Invitation not valid" description="Ask whoever invited you for a new link.">
        <InvitationNotice kind="invalid" signInHref={authPageHref("/sign-in", "/")} />
      </AuthCard>
    );
  }
  if (invitation && invite && (mode !== "closed" || firstAccount)) {
    return (
      <AuthCard title="Create your account" description={`You are invited to ${invitation.projectName}.`}>
        <InvitationNotice kind="valid" invitation={invitation} />
        <SignUpForm next={`/projects/${preview!.projectId}`} invitation={invite} signInHref={signInBack} />
      </AuthCard>
    );
  }
  if (firstAccount || mode === "open") {
    return (
      <AuthCard title="Create your account" description="Run and manage your coding agents from one place.">
        {firstAccount ? <SignUpNotice kind="first" /> : null}
        <SignUpForm next={safeNextPath(params.next)} />
      </AuthCard>
    );
  }
  return (
    <AuthCard title={mode === "closed" ? "Sign-up is closed" : "Sign-up is by invitation"} description="This Armory admits new people on its admin's terms.">
      <SignUpNotice kind={invitation ? "closed-invited" : mode === "closed" ? "closed" : "invite"} />
      <p className="text-muted-foreground mt-4 text-center text-sm">
        Already have an account?{" "}
        <Link href={signInBack} className="text-foreground font-medium underline-offset-4 hover:underline">
          Sign in
        </Link>
      </p>
    </AuthCard>
  );
}
