import { describe, expect, it } from "vitest";
import { formatCpus, formatMemory, formatPids, formatResources } from "./format";
import { changedFields, checkTemplateForm, copyName, emptyTemplateForm, envRow, templateToForm } from "./template-form";
import type { Template } from "./format";

describe("template formatting", () => {
  it("shows resources in human units", () => {
    expect(formatResources({ memoryMb: 2048, cpus: 2, pidsLimit: 512 })).toBe("2 GB · 2 CPUs · 512 processes");
    expect(formatResources({ memoryMb: 512, cpus: 1, pidsLimit: 1 })).toBe("512 MB · 1 CPU · 1 process");
    expect(formatMemory(1536)).toBe("1.5 GB");
    expect(formatMemory(1000)).toBe("1000 MB");
    expect(formatCpus(0.5)).toBe("0.5 CPU");
    expect(formatCpus(1.25)).toBe("1.25 CPUs");
    expect(formatPids(32768)).toBe("32,768 processes");
  });
});

describe("template form", () => {
  const template: Template = {
    id: "t1",
    projectId: "p1",
    builtIn: false,
    name: "coder",
    displayName: "Coder",
    description: "",
    image: "default",
    model: "claude-sonnet-4-5",
    provider: null,
    egressAllowlist: [],
    placement: { constraints: [] },
    repository: null,
    memoryMb: 2048,
    cpus: 2,
    pidsLimit: 512,
    env: { A: "1" },
    instructions: "",
    personality: "",
    permissionMode: "acceptEdits",
    allowedTools: ["Read"],
    toolPolicy: { allow: [], ask: [], deny: [] },
    volumes: [],
    source: "api",
    sourceFile: null,
    sourceHash: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };

  it("suggests a free name for a copy", () => {
    expect(copyName("reviewer", new Set())).toBe("reviewer");
    expect(copyName("reviewer", new Set(["reviewer"]))).toBe("reviewer-copy");
    expect(copyName("reviewer", new Set(["reviewer", "reviewer-copy"]))).toBe("reviewer-copy-2");
    expect(copyName("a".repeat(40), new Set(["a".repeat(40)])).length).toBeLessThanOrEqual(40);
  });

  it("requires a name, a model and numbers, and catches duplicate env names", () => {
    const values = { ...emptyTemplateForm(), model: " ", memoryMb: "lots", env: [envRow("X", "1"), envRow("X", "2")] };
    const result = checkTemplateForm(values);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toMatchObject({
      name: "Template name is required",
      model: "model is required",
      memoryMb: "memoryMb must be a number of megabytes",
      env: "X is set twice",
    });
  });

  it("builds the payload and sends only what changed on edit", () => {
    const values = templateToForm(template);
    const unchanged = checkTemplateForm(values);
    expect(unchanged.ok).toBe(true);
    if (!unchanged.ok) return;
    expect(changedFields(template, unchanged.name, unchanged.payload)).toEqual({});

    const edited = checkTemplateForm({ ...values, memoryMb: "4096", allowedTools: "Read\n\n Grep \n", env: [] });
    if (!edited.ok) throw new Error("expected a valid form");
    expect(changedFields(template, edited.name, edited.payload)).toEqual({ memoryMb: 4096, allowedTools: ["Read", "Grep"], env: {} });
  });
});
