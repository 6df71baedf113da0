import type { Metadata } from "next";
import { SignInForm } from "@/components/auth/sign-in-form";
import { AuthCard, signedOutNext, type AuthPageProps } from "@/app/(auth)/auth-page";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: AuthPageProps) {
  const next = await signedOutNext(searchParams);
  return (
    <AuthCard title="Sign in to Armory" description="Welcome back. Enter your email and password.">
      <SignInForm next={next} />
    </AuthCard>
  );
}
