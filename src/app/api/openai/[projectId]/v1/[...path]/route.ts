import { openaiResponse } from "@/server/openai";
import { getServices } from "@/server/services-registry";

// The OpenAI-compatible endpoint (src/server/openai): streamed completions are SSE, so Node
// runtime, never cached, never buffered.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

async function handler(req: Request): Promise<Response> {
  const res = await openaiResponse(req, await getServices());
  res.headers.set("X-Accel-Buffering", "no");
  return res;
}

export { handler as GET, handler as POST, handler as PUT, handler as PATCH, handler as DELETE };
