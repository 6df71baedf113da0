import { describe, expect, it } from "vitest";
import { parseTemplateFile } from "../server/domain/templates";
import { parseConstraint, placementSchema, satisfiesConstraint } from "./placement";

describe("Swarm placement constraints", () => {
  it("parses attribute==value and attribute!=value for the attributes Swarm matches on", () => {
    expect(parseConstraint("node.labels.disk==ssd")).toEqual({ attribute: "node.labels.disk", op: "==", value: "ssd" });
    expect(parseConstraint(" node.role != manager ")).toEqual({ attribute: "node.role", op: "!=", value: "manager" });
    expect(parseConstraint("engine.labels.zone==eu-1")).toEqual({ attribute: "engine.labels.zone", op: "==", value: "eu-1" });
    for (const bad of ["disk=ssd", "node.labels.disk=ssd", "node.labels.x==", "node.labels.x==a,b", "node.platform.os==linux", "labels.disk==ssd", "node.labels.==x", ""]) {
      expect(parseConstraint(bad), bad).toBeNull();
    }
  });

  it("stores constraints without spaces and refuses a malformed one naming it and its position", () => {
    expect(placementSchema.parse({ constraints: ["node.labels.disk == ssd", "node.role!=manager"] })).toEqual({ constraints: ["node.labels.disk==ssd", "node.role!=manager"] });
    expect(placementSchema.parse({})).toEqual({ constraints: [] });
    const bad = placementSchema.safeParse({ constraints: ["node.role!=manager", "disk=ssd"] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(["constraints", 1]);
    expect(bad.error!.issues[0]!.message).toMatch(/^"disk=ssd" is not a Swarm placement constraint: write attribute==value or attribute!=value/);
    expect(placementSchema.safeParse({ constraints: ["node.role!=manager", "node.role != manager"] }).error!.issues[0]!.message).toBe("placement.constraints lists node.role!=manager twice");
    expect(placementSchema.safeParse({ constraint: [] }).success).toBe(false);
  });

  it("matches a node's id, hostname, role, node labels and engine labels; a missing label never equals", () => {
    const node = { id: "n2", hostname: "host2", role: "worker", labels: { disk: "ssd" }, engineLabels: { zone: "eu" } };
    expect(satisfiesConstraint(node, "node.id==n2")).toBe(true);
    expect(satisfiesConstraint(node, "node.hostname!=host2")).toBe(false);
    expect(satisfiesConstraint(node, "node.role!=manager")).toBe(true);
    expect(satisfiesConstraint(node, "node.labels.disk==ssd")).toBe(true);
    expect(satisfiesConstraint(node, "node.labels.disk==hdd")).toBe(false);
    expect(satisfiesConstraint(node, "node.labels.gpu==yes")).toBe(false);
    expect(satisfiesConstraint(node, "node.labels.gpu!=yes")).toBe(true);
    expect(satisfiesConstraint(node, "engine.labels.zone==eu")).toBe(true);
    expect(satisfiesConstraint(node, "garbage")).toBe(false);
  });

  it("template files take placement.constraints and name the offending entry", () => {
    const base = "name: ssd-coder\nmodel: claude-sonnet-4-5\nresources: { memoryMb: 512, cpus: 1, pidsLimit: 256 }\n";
    const ok = parseTemplateFile("templates/ssd.yaml", `${base}placement:\n  constraints: [node.labels.disk==ssd, "node.role != manager"]\n`);
    expect(ok).toMatchObject({ ok: true, fields: { placement: { constraints: ["node.labels.disk==ssd", "node.role!=manager"] } } });
    expect(parseTemplateFile("templates/plain.yaml", base)).toMatchObject({ ok: true, fields: { placement: { constraints: [] } } });
    const bad = parseTemplateFile("templates/ssd.yaml", `${base}placement:\n  constraints: [node.labels.disk==ssd, disk=ssd]\n`);
    expect(bad.ok).toBe(false);
    expect((bad as { message: string }).message).toMatch(/^templates\/ssd\.yaml: placement\.constraints\[1\]: "disk=ssd" is not a Swarm placement constraint/);
  });
});
