import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { safeNextPath } from "@/components/auth/safe-next";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { getPageSession } from "@/server/auth/session";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Request-time only: `next build` must never open the database by prerendering this.
  await connection();
  const next = safeNextPath((await searchParams).next);
  if (await getPageSession()) redirect(next);

  return (
    <Card className="shadow-md">
      <CardHeader className="text-center">
        <CardTitle>
          <h1 className="text-xl font-semibold tracking-tight">Sign in to Armory</h1>
        </CardTitle>
        <CardDescription>Welcome back. Enter your email and password.</CardDescription>
      </CardHeader>
      <CardContent>
        <SignInForm next={next} />
      </CardContent>
    </Card>
  );
}
