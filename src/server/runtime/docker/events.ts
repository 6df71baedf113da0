// One Docker events stream for all of Armory's containers (filtered by its label), reconnecting
// with back-off when the engine goes away, and reporting the engine's state as it changes.
import type Docker from "dockerode";
import { jsonLines } from "../../streams/ndjson";
import { engineMessage } from "./client";
import type { ContainerEvent, EventsFollower, EventsFollowerOptions } from "../port";
import { LABELS } from "./containers";

export type { EventsFollowerOptions };
export type DockerContainerEvent = ContainerEvent;

export interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export class DockerEventsFollower implements EventsFollower {
  private stopped = false;
  private stream: NodeJS.ReadableStream | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoff: number;
  private wake: (() => void) | null = null;

  constructor(
    protected readonly docker: Docker,
    protected readonly opts: EventsFollowerOptions,
  ) {
    this.backoff = opts.minBackoffMs ?? 250;
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.wake?.();
    (this.stream as unknown as { destroy?: () => void } | null)?.destroy?.();
  }

  /** Skip the current back-off wait and try to reconnect now (e.g. after a successful API call). */
  nudge(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.docker.ping();
        const stream = (await this.docker.getEvents({ filters: this.filters() })) as NodeJS.ReadableStream;
        if (this.stopped) {
          (stream as unknown as { destroy: () => void }).destroy();
          return;
        }
        this.stream = stream;
        this.backoff = this.opts.minBackoffMs ?? 250;
        this.opts.onEngineState("up", null);
        const reason = await this.consume(stream);
        if (this.stopped) return;
        this.opts.onEngineState("down", reason);
      } catch (err) {
        if (this.stopped) return;
        this.opts.onEngineState("down", engineMessage(err));
      }
      await this.waitBackoff();
    }
  }

  /** What the events stream is filtered to: Armory's containers. */
  protected filters(): Record<string, string[]> {
    return { type: ["container"], label: [`${LABELS.managed}=true`] };
  }

  private consume(stream: NodeJS.ReadableStream): Promise<string> {
    return new Promise((resolve) => {
      const parser = jsonLines<RawEvent>(
        (raw) => this.dispatch(raw),
        (line) => this.opts.log.warn({ line: line.slice(0, 200) }, "unparseable Docker event"),
      );
      stream.on("data", (chunk: Buffer) => parser.push(chunk));
      stream.once("end", () => {
        parser.end();
        resolve("the Docker events stream ended (engine stopped?)");
      });
      stream.once("error", (err: Error) => resolve(err.message));
    });
  }

  protected dispatch(raw: RawEvent): void {
    const action = raw.Action ?? raw.status ?? "";
    const containerId = raw.Actor?.ID ?? raw.id;
    if (raw.Type && raw.Type !== "container") return;
    if (!containerId || !action) return;
    const attrs = raw.Actor?.Attributes ?? {};
    const exitCode = attrs.exitCode !== undefined ? Number(attrs.exitCode) : null;
    const time = raw.timeNano ? new Date(Math.floor(raw.timeNano / 1e6)) : new Date((raw.time ?? Date.now() / 1000) * 1000);
    this.opts.onEvent({ action, containerId, agentId: attrs[LABELS.agentId] ?? null, exitCode, time });
  }

  private waitBackoff(): Promise<void> {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
    return new Promise((resolve) => {
      this.wake = () => {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.wake = null;
        resolve();
      };
      this.retryTimer = setTimeout(() => this.wake?.(), delay);
      this.retryTimer.unref();
    });
  }
}
