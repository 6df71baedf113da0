// Example: list a project's agents and follow one agent's status with a machine token.
//
//   ARMORY_URL=http://127.0.0.1:3000 ARMORY_TOKEN=arm_… npx tsx scripts/examples/follow-agent.ts <projectId> [agentName]
//
// Prints the agents, then one line per status change of the chosen agent (the first one when no
// name is given) until Ctrl-C. Uses only the typed client: every call is type-checked against
// Armory's router.
import { EventSource } from "eventsource";
import { createArmoryClient } from "../../src/client";

async function main(): Promise<number> {
  const [projectId, agentName] = process.argv.slice(2);
  const url = process.env.ARMORY_URL ?? "http://127.0.0.1:3000";
  const token = process.env.ARMORY_TOKEN;
  if (!projectId || !token) {
    console.error("Usage: ARMORY_TOKEN=arm_… [ARMORY_URL=…] tsx scripts/examples/follow-agent.ts <projectId> [agentName]");
    return 2;
  }
  const armory = createArmoryClient({ url, token, EventSource });

  const agents = await armory.agent.list.query({ projectId });
  if (agents.length === 0) {
    console.log("This project has no agents yet.");
    return 0;
  }
  for (const a of agents) console.log(`${a.name.padEnd(24)} ${a.observedState.padEnd(10)} ${a.version}`);
  const agent = agentName ? agents.find((a) => a.name === agentName) : agents[0];
  if (!agent) {
    console.error(`No agent named ${agentName} in this project.`);
    return 1;
  }

  console.log(`\nFollowing ${agent.name} (Ctrl-C to stop)…`);
  await new Promise<void>((resolve, reject) => {
    const sub = armory.agent.onStatus.subscribe(
      { projectId, agentId: agent.id },
      {
        onData(event) {
          const at = new Date().toISOString();
          if (event.type === "engine") console.log(`${at} engine ${event.engine.state}${event.engine.message ? `: ${event.engine.message}` : ""}`);
          else if (event.type === "agent") console.log(`${at} ${event.agent.name} ${event.agent.observedState}${event.agent.statusDetail ? ` (${event.agent.statusDetail})` : ""}`);
          else console.log(`${at} ${agent.name} was removed`);
        },
        onError: reject,
      },
    );
    process.once("SIGINT", () => {
      sub.unsubscribe();
      resolve();
    });
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
