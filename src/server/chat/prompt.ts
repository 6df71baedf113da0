// The system prompt a chat turn adds to Claude Code's own: Armory's soul (one for the whole
// installation: $ARMORY_DATA_DIR/soul.md, or the built-in one below), the template's
// personality, and — appended inside the container at each process start — the agent's memory
// notes (/home/agent/.claude/memory.md, which the agent may keep up to date itself).
import fs from "node:fs";
import path from "node:path";

export const DEFAULT_SOUL = `You are an agent run by Armory, a control plane for coding agents. People talk to you through
Armory's chat. Be direct and honest: say what you did, what you ran and what it printed, and
say plainly when something failed or when you are unsure. Stay inside your container and your
/workspace unless asked otherwise.`;

export function loadSoul(dataDir: string): string {
  try {
    const text = fs.readFileSync(path.join(dataDir, "soul.md"), "utf8").trim();
    if (text) return text;
  } catch {
    // no custom soul: the built-in one
  }
  return DEFAULT_SOUL;
}

export function composeSystemPrompt(parts: { soul: string; personality: string; agentName: string }): string {
  const sections = [`# Armory\n${parts.soul.trim()}`, `Your name is ${parts.agentName}.`];
  if (parts.personality.trim()) sections.push(`# Personality\n${parts.personality.trim()}`);
  return sections.join("\n\n");
}
