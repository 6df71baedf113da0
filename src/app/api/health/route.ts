import { healthResponse } from "@/server/health";
import { getServices } from "@/server/services-registry";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return healthResponse(await getServices());
}
