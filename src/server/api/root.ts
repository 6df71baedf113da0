// The app router: one sub-router per domain. Procedure names are Armory's public API.
import { agentRouter } from "./routers/agent/router";
import { chatRouter } from "./routers/chat/router";
import { projectRouter } from "./routers/project/router";
import { templateRouter } from "./routers/template/router";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  project: projectRouter,
  template: templateRouter,
  agent: agentRouter,
  chat: chatRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
