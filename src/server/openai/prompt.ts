// What the agent is sent for a chat completion request: the LAST user message, with the request's
// system (and developer) messages prepended as instructions and, when the turn starts a new
// session, the earlier user/assistant turns of the request as a short transcript before it.
import type { OpenaiMessage } from "@/contracts/openai";
import { OPENAI_MAX_PROMPT_CHARS } from "@/contracts/openai";
import { badRequest } from "./errors";

/** A message's text: the string, or its text parts joined by blank lines (other parts refused). */
export function messageText(m: OpenaiMessage, index: number): string {
  const c = m.content;
  if (c === null || c === undefined) return "";
  if (typeof c === "string") return c;
  const texts: string[] = [];
  for (const part of c) {
    if (part.type !== "text" || typeof (part as { text?: unknown }).text !== "string") {
      throw badRequest(`messages[${index}].content: only text parts are supported (this part is "${part.type}").`, `messages.${index}.content`, "unsupported_content");
    }
    texts.push((part as { text: string }).text);
  }
  return texts.join("\n\n");
}

export interface BuiltPrompt {
  /** What chat.send is given. */
  message: string;
  /** The last user message alone (for the audit entry). */
  lastUser: string;
  /** Whether earlier turns went in as a transcript. */
  transcript: boolean;
}

/**
 * Builds the message. `continuing`: the turn continues an existing session (which already holds
 * the conversation), so earlier turns are not repeated.
 */
export function buildPrompt(messages: OpenaiMessage[], continuing: boolean): BuiltPrompt {
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") last = i;
  });
  if (last < 0) throw badRequest("messages must contain a user message: the agent is sent the last one.", "messages", "no_user_message");
  const lastUser = messageText(messages[last]!, last);
  if (!lastUser.trim()) throw badRequest(`messages[${last}].content: the last user message is empty.`, `messages.${last}.content`, "empty_message");
  const instructions = messages
    .map((m, i) => (m.role === "system" || m.role === "developer" ? messageText(m, i).trim() : ""))
    .filter(Boolean);
  const earlier = continuing
    ? []
    : messages.slice(0, last).flatMap((m, i) => {
        if (m.role !== "user" && m.role !== "assistant") return [];
        const text = messageText(m, i).trim();
        return text ? [`${m.role === "user" ? "User" : "Assistant"}: ${text}`] : [];
      });
  const sections: string[] = [];
  if (instructions.length) sections.push(`Instructions:\n${instructions.join("\n\n")}`);
  if (earlier.length) sections.push(`The conversation so far:\n${earlier.join("\n\n")}`);
  const message = sections.length ? `${sections.join("\n\n")}\n\nThe message to answer now:\n${lastUser}` : lastUser;
  if (message.length > OPENAI_MAX_PROMPT_CHARS) {
    throw badRequest(`The message for the agent (instructions, earlier turns and the last user message) is longer than ${OPENAI_MAX_PROMPT_CHARS} characters.`, "messages", "message_too_long");
  }
  return { message, lastUser, transcript: earlier.length > 0 };
}
