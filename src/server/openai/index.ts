// The OpenAI-compatible endpoint of a project, `/api/openai/<projectId>/v1`: GET /models (the
// agents the token may chat with), GET /models/<name>, POST /chat/completions (see
// completions.ts). One function, `openaiResponse`, serves it for the Next route handler and the
// test server alike. Machine tokens only (Authorization: Bearer); errors in OpenAI's shape.
import { OPENAI_PATH_PREFIX, type OpenaiModel } from "@/contracts/openai";
import { z } from "zod";
import type { Services } from "../services";
import { authenticate, chatDecision, projectAccess, requestInfo } from "./auth";
import { chatCompletions } from "./completions";
import { errorResponse, jsonResponse, notFoundError, OpenaiError } from "./errors";

const MODELS_ACTION = "openai.models";
const projectIdSchema = z.uuid();

/** Whether a request path belongs to the endpoint. */
export function isOpenaiPath(pathname: string): boolean {
  return pathname.startsWith(OPENAI_PATH_PREFIX);
}

/** The project's agents this caller may chat with, as OpenAI models (by name). */
async function models(req: Request, services: Services, projectId: string): Promise<OpenaiModel[]> {
  const caller = await authenticate(services, req, requestInfo(req, MODELS_ACTION));
  const role = await projectAccess(services, caller, projectId, "read", MODELS_ACTION);
  const agents = await services.db.prisma.agent.findMany({ where: { projectId }, select: { id: true, name: true, projectId: true, createdAt: true }, orderBy: { name: "asc" } });
  const allowed = await Promise.all(agents.map(async (a) => ((await chatDecision(services, caller, role, a)).allowed ? a : null)));
  return allowed
    .filter((a): a is NonNullable<typeof a> => a !== null)
    .map((a) => ({ id: a.name, object: "model" as const, created: Math.floor(a.createdAt.getTime() / 1000), owned_by: "armory" as const }));
}

async function route(req: Request, services: Services): Promise<Response> {
  const url = new URL(req.url);
  const rest = url.pathname.slice(OPENAI_PATH_PREFIX.length).split("/");
  const [projectId, version, ...path] = rest.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (version !== "v1" || !projectId) throw notFoundError(`Unknown path ${url.pathname}: the base URL is /api/openai/<projectId>/v1.`, "unknown_url");
  if (!projectIdSchema.safeParse(projectId).success) throw notFoundError("No project has this id (project ids are UUIDs).", "project_not_found");
  const endpoint = path.join("/");
  const allow = (method: string) => {
    if (req.method !== method) throw new OpenaiError(405, `${req.method} is not supported here; use ${method} /${endpoint}.`, "invalid_request_error", "method_not_allowed", null, { allow: method });
  };
  if (endpoint === "models") {
    allow("GET");
    return jsonResponse(200, { object: "list", data: await models(req, services, projectId) });
  }
  if (path[0] === "models" && path.length === 2) {
    allow("GET");
    const found = (await models(req, services, projectId)).find((m) => m.id === path[1]);
    if (!found) throw notFoundError(`The model ${JSON.stringify(path[1])} does not exist or you may not chat with it.`, "model_not_found", "model");
    return jsonResponse(200, found);
  }
  if (endpoint === "chat/completions") {
    allow("POST");
    return chatCompletions(req, services, projectId);
  }
  throw notFoundError(`Unknown endpoint /${endpoint}: Armory serves GET /models and POST /chat/completions.`, "unknown_url");
}

/** Answers one request to /api/openai/...; never throws (unexpected errors are a logged 500 naming the request id). */
export async function openaiResponse(req: Request, services: Services): Promise<Response> {
  const requestId = req.headers.get("x-request-id") ?? crypto.randomUUID();
  const headers = { "x-request-id": requestId };
  try {
    const res = await route(req, services);
    res.headers.set("x-request-id", requestId);
    return res;
  } catch (err) {
    if (err instanceof OpenaiError) return errorResponse(err, headers);
    if (req.signal.aborted) return new Response(null, { status: 499, headers });
    services.log.error({ err, requestId, path: new URL(req.url).pathname }, "openai endpoint failed");
    return errorResponse(new OpenaiError(500, `Something went wrong on the server (request id ${requestId}).`, "api_error", "internal_error"), headers);
  }
}
