// Where to go after signing in: the `?next=` path when it is a same-origin path, else "/".
// Shared by the server pages (signed-in visitors) and the client forms.

const AUTH_PAGES = new Set(["/sign-in", "/sign-up"]);

export function safeNextPath(next: string | string[] | null | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || value.length > 2048) return "/";
  // Only absolute paths on this origin: not "//host", not "/\host", no scheme, no control chars.
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  try {
    const base = "http://armory.invalid";
    const url = new URL(value, base);
    if (url.origin !== base) return "/";
    if (AUTH_PAGES.has(url.pathname) || url.pathname.startsWith("/api/")) return "/";
    return url.pathname + url.search + url.hash;
  } catch {
    return "/";
  }
}

/** The other auth page (`/sign-in` or `/sign-up`), passing `next` on unless it is the default "/". */
export function authPageHref(path: "/sign-in" | "/sign-up", next: string): string {
  return next === "/" ? path : `${path}?next=${encodeURIComponent(next)}`;
}
