import { getServices } from "@/server/services-registry";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

async function handler(req: Request): Promise<Response> {
  return (await getServices()).auth.handler(req);
}

export { handler as GET, handler as POST };
