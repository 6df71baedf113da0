// Session lookup for server components and layouts (the authoritative check; src/proxy.ts only
// does a fast cookie-presence redirect).
import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getServices } from "../services-registry";
import type { AuthSession } from ".";

export async function getPageSession(): Promise<AuthSession | null> {
  // headers() first: it marks the page dynamic, so `next build` never reaches the database.
  const requestHeaders = await headers();
  const services = await getServices();
  return services.auth.api.getSession({ headers: requestHeaders });
}

/** The signed-in session, or a redirect to /sign-in that comes back to `returnTo`. */
export async function requirePageSession(returnTo?: string): Promise<AuthSession> {
  const session = await getPageSession();
  if (!session) redirect(returnTo ? `/sign-in?next=${encodeURIComponent(returnTo)}` : "/sign-in");
  return session;
}
