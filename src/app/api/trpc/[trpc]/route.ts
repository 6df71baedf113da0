import { handleTrpcRequest } from "@/server/api/http";
import { getServices } from "@/server/services-registry";

// Subscriptions stream over SSE: Node runtime, never cached, never buffered.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

async function handler(req: Request): Promise<Response> {
  const res = await handleTrpcRequest(req, await getServices());
  res.headers.set("X-Accel-Buffering", "no");
  return res;
}

export { handler as GET, handler as POST };
