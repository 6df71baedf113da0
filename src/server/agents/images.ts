// The default agent image as the agent manager sees it: present, being built (with progress),
// or missing (then a build starts in the background and the caller is told to come back).
import { agentImageProgressPrinter, agentImageTag, type AgentRuntime } from "../runtime";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import type { AgentImageProvider } from "./manager";

export interface ImageBuildStatus {
  state: "unknown" | "present" | "building" | "failed";
  message: string | null;
  percent: number | null;
}

export class DefaultAgentImage implements AgentImageProvider {
  status: ImageBuildStatus = { state: "unknown", message: null, percent: null };
  private building: Promise<string> | null = null;

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly log: Logger,
  ) {}

  defaultTag(): string {
    return agentImageTag();
  }

  /** Starts a build when the image is missing (no-op when present or already building). */
  buildInBackground(): Promise<string> {
    this.building ??= (async () => {
      const tag = agentImageTag();
      try {
        // "stale": the image's Dockerfile or its daemon (armoryd) changed since it was built.
        const current = await this.runtime.agentImageStatus(tag);
        if (current === "current") {
          this.status = { state: "present", message: null, percent: 100 };
          return tag;
        }
        this.status = { state: "building", message: "starting the agent image build", percent: 0 };
        this.log.info({ tag, reason: current }, "building the agent image; this takes a minute or two");
        const print = agentImageProgressPrinter((line) => this.log.info({ tag }, `agent image: ${line}`));
        await this.runtime.buildAgentImage(tag, (p) => {
          this.status = { state: "building", message: p.message, percent: p.percent ?? this.status.percent };
          print(p);
        });
        this.status = { state: "present", message: null, percent: 100 };
        this.log.info({ tag }, "agent image ready");
        return tag;
      } catch (err) {
        this.status = { state: "failed", message: (err as Error).message, percent: null };
        this.log.error({ err: (err as Error).message }, "agent image build failed");
        throw err;
      } finally {
        this.building = null;
      }
    })();
    return this.building;
  }

  private presentCheckedAt = 0;

  async ensureDefault(): Promise<string> {
    const tag = agentImageTag();
    // Seen a moment ago: skip the engine round trip on the hot path of agent creation.
    if (this.status.state === "present" && Date.now() - this.presentCheckedAt < 30_000) return tag;
    // An unreachable engine: the runtime's PRECONDITION_FAILED error says so.
    const exists = (await this.runtime.agentImageStatus(tag)) !== "missing";
    if (exists) {
      this.status = { state: "present", message: null, percent: 100 };
      this.presentCheckedAt = Date.now();
      return tag;
    }
    const wasFailed = this.status.state === "failed" ? this.status.message : null;
    void this.buildInBackground().catch(() => {});
    const progress = this.status.percent !== null ? ` (${Math.round(this.status.percent)}%: ${this.status.message})` : "";
    throw new DomainError(
      "PRECONDITION_FAILED",
      wasFailed
        ? `The agent image ${tag} could not be built last time (${wasFailed}); a new build has started. Try again in a minute or two.`
        : `The agent image ${tag} is being built${progress}. Try again in a minute or two.`,
    );
  }
}
