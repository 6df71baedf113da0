// agentConfig.* schemas: config reload events and the capabilities an agent reports on start.
import { z } from "zod";

export const agentCapabilitiesView = z.object({
  agentVersion: z.string().optional(),
  claudeVersion: z.string().optional(),
  writablePaths: z.array(z.string()),
  configDir: z.string().optional(),
  instructionsDir: z.string().optional(),
  instructionFiles: z.array(z.string()),
  configWatcher: z.string().optional(),
  supportedActions: z.array(z.string()),
});

export const agentCapabilitiesOutput = z.object({
  /** Null until the agent's daemon has connected once (its hello reports them). */
  capabilities: agentCapabilitiesView.nullable(),
  reportedAt: z.date().nullable(),
  configReloadedAt: z.date().nullable(),
  /** The watcher's directories while Armory follows the running agent. */
  watching: z.object({ dirs: z.array(z.string()), since: z.date() }).nullable(),
});

export const agentConfigReloadedEvent = z.object({
  type: z.literal("agent-config-reloaded"),
  projectId: z.string(),
  agentId: z.string(),
  files: z.array(z.string()),
  filesTruncated: z.boolean(),
  changes: z.number(),
  changedAt: z.date(),
  reportedAt: z.date(),
  receivedAt: z.date(),
});
