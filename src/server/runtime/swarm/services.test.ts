// The Swarm mapping without an engine: the service spec keeps the shared hardening, and a
// service's tasks and nodes become the port's observed state (the two-node suite, tests/swarm,
// proves the same against a real Swarm).
import { describe, expect, it } from "vitest";
import type Docker from "dockerode";
import { AGENT_USER } from "../../../contracts/armoryd";
import type { AgentContainerSpec } from "../port";
import { satisfies, type SwarmNodeInfo } from "./placement";
import { agentServiceSpec, observeService, type SwarmTask } from "./services";

const spec: AgentContainerSpec = {
  agentId: "a1b2c3d4-0000-4000-8000-000000000000",
  projectId: "p1",
  agentName: "coder",
  templateName: "claude-coder",
  image: "armory-agent:1",
  version: "1",
  configHash: "h",
  env: { A: "1", ANTHROPIC_BASE_URL: "http://elsewhere" },
  extraEnv: { ANTHROPIC_BASE_URL: "http://armory-gateway:8080" },
  secretEnv: { TOKEN: "s3cret" },
  memoryMb: 512,
  cpus: 1.5,
  pidsLimit: 256,
  workspaceVolume: "armory-workspace-a1",
  sessionVolume: "armory-claude-a1",
  network: "armory-p-1",
};

const service = (replicas: number, constraints = ["node.id==n2"]): Docker.Service =>
  ({ ID: "svc1", Spec: { ...agentServiceSpec(spec, constraints), Mode: { Replicated: { Replicas: replicas } } } }) as unknown as Docker.Service;
const nodes = (n2: string) =>
  new Map([
    ["n1", { state: "ready", name: "one" }],
    ["n2", { state: n2, name: "two" }],
  ]);
const task = (state: string, desired = "running", extra: Partial<SwarmTask> = {}): SwarmTask => ({
  ID: `t-${state}`,
  NodeID: "n2",
  CreatedAt: "2026-12-06T12:00:00Z",
  DesiredState: desired,
  Status: { State: state, Timestamp: "2026-12-06T12:00:05Z" },
  ...extra,
});

describe("Swarm services", () => {
  it("build a service with the agent's hardening, limits, pin, network and Armory's env last", () => {
    const s = agentServiceSpec(spec, ["node.id==n2", "node.labels.armory==agents"]);
    const c = (s.TaskTemplate as { ContainerSpec: Record<string, unknown> }).ContainerSpec;
    expect(c).toMatchObject({ User: AGENT_USER, ReadOnly: true, Init: true, CapabilityDrop: ["ALL"], Image: "armory-agent:1" });
    expect(c.Env).toContain("ANTHROPIC_BASE_URL=http://armory-gateway:8080");
    expect(c.Env).not.toContain("ANTHROPIC_BASE_URL=http://elsewhere");
    expect(s.TaskTemplate!.Resources!.Limits).toMatchObject({ MemoryBytes: 512 * 1024 * 1024, NanoCPUs: 1.5e9, Pids: 256 });
    expect(s.TaskTemplate!.Placement!.Constraints).toEqual(["node.id==n2", "node.labels.armory==agents"]);
    expect(s.TaskTemplate!.Networks).toEqual([{ Target: "armory-p-1" }]);
    expect(s.Mode).toEqual({ Replicated: { Replicas: 0 } });
    expect(s.UpdateConfig).toMatchObject({ FailureAction: "rollback", Order: "stop-first" });
    expect(s.Labels).toMatchObject({ "dev.armory.managed": "true", "dev.armory.agent-id": spec.agentId });
  });

  it("observe created, running, starting, waiting for a node, stopped and failed services", () => {
    expect(observeService(service(0), [], nodes("ready"))).toMatchObject({ state: "created", detail: "created, not started" });
    const scaledDown = { ...service(0), CreatedAt: "2026-12-06T12:00:00Z", UpdatedAt: "2026-12-06T12:05:00Z" } as Docker.Service;
    expect(observeService(scaledDown, [], nodes("ready"))).toMatchObject({ state: "exited", detail: "stopped", exitCode: 0 });
    expect(observeService(service(1), [task("running")], nodes("ready"))).toMatchObject({ state: "running", agentId: spec.agentId, configHash: "h", image: "armory-agent:1" });
    expect(observeService(service(1), [task("preparing")], nodes("ready")).state).toBe("restarting");
    const pending = task("pending", "running", { NodeID: undefined, Status: { State: "pending", Err: "no suitable node" } });
    expect(observeService(service(1), [pending], nodes("ready"))).toMatchObject({ state: "restarting", detail: "waiting for a node: no suitable node" });
    expect(observeService(service(0), [task("running", "shutdown")], nodes("ready"))).toMatchObject({ state: "running", detail: "stopping" });
    expect(observeService(service(0), [task("shutdown", "shutdown")], nodes("ready"))).toMatchObject({ state: "exited", detail: "stopped", exitCode: 0 });
    const failed = task("failed", "shutdown", { Status: { State: "failed", Err: "task: non-zero exit (3)", ContainerStatus: { ExitCode: 3 } } });
    expect(observeService(service(0), [failed], nodes("ready"))).toMatchObject({ state: "exited", exitCode: 3 });
  });

  it("observe an agent whose pinned node is down as unknown, naming the node", () => {
    const o = observeService(service(1), [task("running")], nodes("down"));
    expect(o.state).toBe("unknown");
    expect(o.detail).toMatch(/its node two is down/);
  });

  it("match node constraints on id, hostname, role and labels", () => {
    const node: SwarmNodeInfo = { ID: "n2", Spec: { Role: "worker", Labels: { armory: "agents" } }, Description: { Hostname: "host2" } };
    expect(satisfies(node, "node.id==n2")).toBe(true);
    expect(satisfies(node, "node.hostname==host2")).toBe(true);
    expect(satisfies(node, "node.role!=manager")).toBe(true);
    expect(satisfies(node, "node.labels.armory==agents")).toBe(true);
    expect(satisfies(node, "node.labels.armory==other")).toBe(false);
    expect(satisfies(node, "node.labels.missing==x")).toBe(false);
    expect(satisfies(node, "garbage")).toBe(false);
  });
});
