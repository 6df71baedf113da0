import type { Metadata } from "next";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { AuthCard, signedOutNext, type AuthPageProps } from "@/app/(auth)/auth-page";

export const metadata: Metadata = { title: "Create account" };

export default async function SignUpPage({ searchParams }: AuthPageProps) {
  const next = await signedOutNext(searchParams);
  return (
    <AuthCard title="Create your account" description="Run and manage your coding agents from one place.">
      <SignUpForm next={next} />
    </AuthCard>
  );
}
