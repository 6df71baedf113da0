// Inbound webhooks: POST /api/hooks/<hookId> (machines; verified by the hook's signature, no session).
import { hookResponse } from "@/server/hooks/endpoint";
import { getServices } from "@/server/services-registry";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  return hookResponse(request, await getServices());
}
