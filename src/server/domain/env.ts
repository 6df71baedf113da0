// Names of an agent's environment variables: what is valid, and what Armory keeps for itself.

/** A POSIX-style variable name: letters, digits and _, not starting with a digit. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_NAME_MAX = 128;

/** Variables Armory sets on every agent container itself (ARMORY_* and the model). */
export function isReservedEnvName(name: string): boolean {
  return name.startsWith("ARMORY_") || name === "ANTHROPIC_MODEL";
}

/** Why `name` cannot be an agent variable or secret, or null when it can. */
export function envNameProblem(name: string): string | null {
  if (!name) return "A variable name is required";
  if (name.length > ENV_NAME_MAX) return `Variable names must be at most ${ENV_NAME_MAX} characters`;
  if (!ENV_NAME_RE.test(name)) {
    return `Variable names must be letters, digits and _ and not start with a digit ("${name.slice(0, 64)}" is not)`;
  }
  if (isReservedEnvName(name)) return `${name} is set by Armory itself (ARMORY_* and ANTHROPIC_MODEL are reserved)`;
  return null;
}

/** What masked values look like wherever an environment is shown. */
export const MASKED_VALUE = "••••••••";
