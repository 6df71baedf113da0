import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { safeNextPath } from "@/components/auth/safe-next";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { getPageSession } from "@/server/auth/session";

export const metadata: Metadata = { title: "Create account" };

export default async function SignUpPage({
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
          <h1 className="text-xl font-semibold tracking-tight">Create your account</h1>
        </CardTitle>
        <CardDescription>Run and manage your coding agents from one place.</CardDescription>
      </CardHeader>
      <CardContent>
        <SignUpForm next={next} />
      </CardContent>
    </Card>
  );
}
