// The app router: one sub-router per domain. Procedure names are Armory's public API.
import { adminRouter } from "./routers/admin/router";
import { securityRouter } from "./routers/security/router";
import { agentRouter } from "./routers/agent/router";
import { approvalRouter } from "./routers/approval/router";
import { auditRouter } from "./routers/audit/router";
import { envRouter } from "./routers/env/router";
import { secretRouter } from "./routers/secret/router";
import { versionRouter } from "./routers/version/router";
import { healthRouter } from "./routers/health/router";
import { logsRouter } from "./routers/logs/router";
import { agentConfigRouter } from "./routers/agent-config/router";
import { filesRouter } from "./routers/files/router";
import { chatRouter } from "./routers/chat/router";
import { terminalRouter } from "./routers/terminal/router";
import { instanceRouter } from "./routers/instance/router";
import { invitationRouter } from "./routers/invitation/router";
import { projectRouter } from "./routers/project/router";
import { providerRouter } from "./routers/provider/router";
import { templateRouter } from "./routers/template/router";
import { tokenRouter } from "./routers/token/router";
import { trustRouter } from "./routers/trust/router";
import { notificationRouter } from "./routers/notification/router";
import { budgetRouter } from "./routers/budget/router";
import { usageRouter } from "./routers/usage/router";
import { hookRouter } from "./routers/hook/router";
import { teamRouter } from "./routers/team/router";
import { scheduleRouter } from "./routers/schedule/router";
import { snapshotRouter } from "./routers/snapshot/router";
import { gitRouter } from "./routers/git/router";
import { nodeRouter } from "./routers/node/router";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  instance: instanceRouter,
  admin: adminRouter,
  node: nodeRouter,
  security: securityRouter,
  invitation: invitationRouter,
  project: projectRouter,
  template: templateRouter,
  provider: providerRouter,
  agent: agentRouter,
  token: tokenRouter,
  trust: trustRouter,
  audit: auditRouter,
  secret: secretRouter,
  version: versionRouter,
  env: envRouter,
  health: healthRouter,
  logs: logsRouter,
  files: filesRouter,
  agentConfig: agentConfigRouter,
  chat: chatRouter,
  approval: approvalRouter,
  terminal: terminalRouter,
  notification: notificationRouter,
  budget: budgetRouter,
  usage: usageRouter,
  hook: hookRouter,
  team: teamRouter,
  schedule: scheduleRouter,
  snapshot: snapshotRouter,
  git: gitRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
