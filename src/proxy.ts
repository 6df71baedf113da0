// Fast path for signed-out visitors: any page but sign-in/sign-up redirects to /sign-in when no
// session cookie is present. Layouts still validate the session itself.
import { getSessionCookie } from "better-auth/cookies";
import { NextResponse, type NextRequest } from "next/server";

const PUBLIC_PAGES = ["/sign-in", "/sign-up"];

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  if (PUBLIC_PAGES.includes(pathname)) return NextResponse.next();
  if (!getSessionCookie(request)) {
    const url = request.nextUrl.clone();
    url.pathname = "/sign-in";
    url.search = pathname === "/" ? "" : `?next=${encodeURIComponent(pathname + search)}`;
    return NextResponse.redirect(url);
  }
  return NextResponse.next();
}

export const config = {
  // Pages only: API routes answer 401 themselves; static assets need no session.
  matcher: ["/((?!api/|metrics|_next/|favicon.ico|.*\\.(?:svg|png|ico|txt|webmanifest)$).*)"],
};
