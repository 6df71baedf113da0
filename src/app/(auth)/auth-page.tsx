// What the sign-in and sign-up pages share: who may see them, and the card around the form.
import { redirect } from "next/navigation";
import { connection } from "next/server";
import { safeNextPath } from "@/components/auth/safe-next";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { getPageSession } from "@/server/auth/session";

export type AuthPageProps = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** Where to go once signed in (`?next=`, made safe); a visitor who is signed in already goes there now. */
export async function signedOutNext(searchParams: AuthPageProps["searchParams"]): Promise<string> {
  // Request-time only: `next build` must never open the database by prerendering this.
  await connection();
  const next = safeNextPath((await searchParams).next);
  if (await getPageSession()) redirect(next);
  return next;
}

export function AuthCard({
  title,
  description,
  children,
}: {
  title: string;
  description: string;
  children: React.ReactNode;
}) {
  return (
    <Card className="shadow-md">
      <CardHeader className="text-center">
        <CardTitle>
          <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
        </CardTitle>
        <CardDescription>{description}</CardDescription>
      </CardHeader>
      <CardContent>{children}</CardContent>
    </Card>
  );
}
