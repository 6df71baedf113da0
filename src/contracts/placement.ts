// Swarm placement constraints: where a Swarm may run an agent (node.labels.disk==ssd,
// node.role!=manager). Templates add them (template.placement.constraints) to the instance's own
// (ARMORY_SWARM_CONSTRAINTS); the Swarm runtime places a new agent on the node with the most free
// memory among the nodes matching all of them. Shared by the config, the template API and files,
// the runtime and the UI.
import { z } from "zod";

/** The attributes Armory understands (Swarm's own, minus the platform ones). */
export const CONSTRAINT_ATTRIBUTES = ["node.id", "node.hostname", "node.role", "node.labels.<name>", "engine.labels.<name>"] as const;
export const PLACEMENT_LIMITS = { constraints: 20, constraint: 200 } as const;

const CONSTRAINT_RE = /^\s*(node\.(?:id|hostname|role|labels\.[\w.-]+)|engine\.labels\.[\w.-]+)\s*(==|!=)\s*([^,=!\s](?:[^,]*[^,\s])?)\s*$/;

export interface Constraint {
  attribute: string;
  op: "==" | "!=";
  value: string;
}

/** The constraint's parts, or null when it is not `attribute==value` / `attribute!=value`. */
export function parseConstraint(text: string): Constraint | null {
  const m = CONSTRAINT_RE.exec(text);
  if (!m) return null;
  return { attribute: m[1]!, op: m[2] as Constraint["op"], value: m[3]! };
}

/** The canonical spelling (no spaces), as Swarm stores it. */
export function formatConstraint(c: Constraint): string {
  return `${c.attribute}${c.op}${c.value}`;
}

export const constraintSchema = z
  .string({ error: "Each placement constraint must be text" })
  .max(PLACEMENT_LIMITS.constraint, `A placement constraint must be at most ${PLACEMENT_LIMITS.constraint} characters`)
  .transform((text, ctx) => {
    const c = parseConstraint(text);
    if (c) return formatConstraint(c);
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(text)} is not a Swarm placement constraint: write attribute==value or attribute!=value, where attribute is one of ${CONSTRAINT_ATTRIBUTES.join(", ")} (e.g. node.labels.disk==ssd)`,
    });
    return z.NEVER;
  });

export const placementSchema = z.strictObject(
  {
    constraints: z
      .array(constraintSchema, { error: "placement.constraints must be a list such as [node.labels.disk==ssd]" })
      .max(PLACEMENT_LIMITS.constraints, `At most ${PLACEMENT_LIMITS.constraints} placement constraints`)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c)) ctx.addIssue({ code: "custom", path: [i], message: `placement.constraints lists ${c} twice` });
          seen.add(c);
        });
      })
      .default([]),
  },
  { error: "placement must be { constraints: [...] } (e.g. constraints: [node.labels.disk==ssd])" },
);
export type Placement = z.output<typeof placementSchema>;

/** What a constraint is matched against: a node's id, hostname, role and labels. */
export interface ConstraintSubject {
  id: string;
  hostname?: string;
  role?: string;
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
}

/** Does the node satisfy the constraint? A malformed one matches nothing. */
export function satisfiesConstraint(node: ConstraintSubject, constraint: string): boolean {
  const c = parseConstraint(constraint);
  if (!c) return false;
  let have: string | undefined;
  if (c.attribute === "node.id") have = node.id;
  else if (c.attribute === "node.hostname") have = node.hostname;
  else if (c.attribute === "node.role") have = node.role;
  else if (c.attribute.startsWith("node.labels.")) have = node.labels?.[c.attribute.slice("node.labels.".length)];
  else have = node.engineLabels?.[c.attribute.slice("engine.labels.".length)];
  return c.op === "==" ? have === c.value : have !== c.value;
}

/** Shown beside placement where the instance runs one engine (ARMORY_RUNTIME=docker). */
export const PLACEMENT_SWARM_ONLY = "Placement constraints apply only when Armory runs agents on a Docker Swarm (ARMORY_RUNTIME=swarm); on one engine they are kept but have no effect.";
