// The app router: one sub-router per domain. Procedure names are Armory's public API.
import { projectRouter } from "./routers/project/router";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  project: projectRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
