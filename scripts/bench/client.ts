// A signed-up user's tRPC client over real HTTP (cookie session), as the web app would call.
import { httpClient } from "../../tests/support/http-server";

export const BENCH_PASSWORD = "bench password 123";

export async function signedUpClient(baseUrl: string, email: string) {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ name: "Bench", email, password: BENCH_PASSWORD }),
  });
  if (!res.ok) throw new Error(`bench sign-up failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  return { cookie, trpc: httpClient(baseUrl, cookie) };
}
