// Puts the events of one event-loop turn into one `events` frame (protocol 2): each event is
// added as it is produced and the frame goes out when the turn ends (setImmediate, no timer, so a
// lone event leaves as soon as it would alone), or at once when its events reach `maxBytes`
// (EVENTS_FRAME_BYTES). Events added in one turn have contiguous seqs (the outbox numbers them in
// that order). No socket here: the owner sends the frames and unit tests watch them.
import { EVENTS_FRAME_BYTES } from "../contracts/armoryd";
import { eventsFrame, type OutboxEntry } from "./outbox";

export class EventBatcher {
  private pending: OutboxEntry[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly send: (frame: string) => void,
    private readonly maxBytes = EVENTS_FRAME_BYTES,
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** Events waiting for the end of the turn. */
  get size(): number {
    return this.pending.length;
  }

  add(entry: OutboxEntry): void {
    const n = entry.json.length;
    if (this.pending.length && this.bytes + n > this.maxBytes) this.flush();
    this.pending.push(entry);
    this.bytes += n;
    if (this.bytes >= this.maxBytes) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.turnEnded);
    }
  }

  /** Sends the waiting events now (before another frame, so frames keep the order things happened in). */
  flush(): void {
    if (!this.pending.length) return;
    const frame = eventsFrame(this.pending);
    this.pending = [];
    this.bytes = 0;
    this.send(frame);
  }

  /** Forgets the waiting events: the connection is gone (the outbox keeps them for the replay). */
  clear(): void {
    this.pending = [];
    this.bytes = 0;
  }

  private readonly turnEnded = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
