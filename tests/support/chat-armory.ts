// The set-up the chat-driven Docker suites share: the agent image, the scripted demo model as the
// upstream (its recorded requests are what the model saw), an Armory whose gateway agents dial,
// a signed-up owner and a project. Each suite then makes the agents it needs.
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "./armory";
import type { DbKind } from "./databases";
import { docker, removeProjectDockerObjects } from "./docker";

export type Caller = Awaited<ReturnType<typeof callerFor>>;

export interface ChatArmory {
  armory: TestArmory;
  model: DemoModelServer;
  owner: TestUser;
  caller: Caller;
  projectId: string;
  /** The built-in claude-coder template (a real Claude model id, so the CLI offers its tools). */
  coderTemplateId: string;
  /** Stops Armory, removes the project's containers, networks and volumes, stops the model. */
  close(): Promise<void>;
}

export async function startChatArmory(opts: { db: DbKind; name: string; env?: Record<string, string>; extra?: Parameters<typeof startTestArmory>[2] }): Promise<ChatArmory> {
  await ensureAgentImage({ docker });
  const model = await startDemoModelServer();
  let armory: TestArmory | undefined;
  let projectId = "";
  const close = async () => {
    await armory?.close();
    if (projectId) await removeProjectDockerObjects(projectId);
    await model.close();
  };
  try {
    armory = await startTestArmory(opts.db, {
      ANTHROPIC_BASE_URL: model.url,
      // The upstream's key: it must never reach a container or a log (suites assert that).
      ANTHROPIC_API_KEY: "sk-upstream-test-key-never-in-containers",
      ARMORY_GATEWAY_PORT: "0",
      ...opts.env,
    }, opts.extra);
    const owner = await signUp(armory.services, { name: `${opts.name} Owner` });
    const caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: opts.name })).id;
    const coderTemplateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    return { armory, model, owner, caller, projectId, coderTemplateId, close };
  } catch (err) {
    await close();
    throw err;
  }
}
