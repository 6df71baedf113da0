// The daemon's sequenced events: numbered 1, 2, ... per daemon start, kept until Armory acks
// them, replayed after a reconnect from the seq Armory says it holds. Bounded: past `maxBytes`
// the oldest events are dropped (reported through onDrop). No runtime APIs: unit-tested.
import type { DaemonEvent } from "../contracts/armoryd";

export interface OutboxEntry {
  seq: number;
  at: number;
  event: DaemonEvent;
  /** `{ seq, at, event }` as JSON text: an item of an `events` frame (see framesOf). */
  json: string;
}

/** The protocol-1 frame of one entry (`{ type: "event", seq, at, event }`), from its JSON. */
export function singleFrame(entry: OutboxEntry): string {
  return `{"type":"event",${entry.json.slice(1)}`;
}

/** An `events` frame of entries with contiguous seqs. */
export function eventsFrame(entries: readonly OutboxEntry[]): string {
  let text = '{"type":"events","events":[';
  for (let i = 0; i < entries.length; i++) text += i ? `,${entries[i]!.json}` : entries[i]!.json;
  return `${text}]}`;
}

/**
 * The `events` frames of entries (oldest first): cut before the entry that would take a frame's
 * events past `maxBytes` (an entry bigger than that goes alone).
 */
export function framesOf(entries: readonly OutboxEntry[], maxBytes: number): string[] {
  const frames: string[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const n = entries[i]!.json.length;
    if (i > from && bytes + n > maxBytes) {
      frames.push(eventsFrame(entries.slice(from, i)));
      from = i;
      bytes = 0;
    }
    bytes += n;
  }
  if (from < entries.length) frames.push(eventsFrame(from ? entries.slice(from) : entries));
  return frames;
}

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** Index of the first live entry in `entries` (trimmed lazily). */
  private head = 0;
  private bytes = 0;
  private seq = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onDrop: (dropped: number, fromSeq: number, toSeq: number) => void = () => {},
  ) {}

  /** The highest seq produced so far. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Events held (not acked yet). */
  get size(): number {
    return this.entries.length - this.head;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Numbers and keeps an event; returns its entry (the caller sends it when connected). */
  push(event: DaemonEvent, at = Date.now()): OutboxEntry {
    const seq = ++this.seq;
    const json = JSON.stringify({ seq, at, event });
    const entry = { seq, at, event, json };
    this.entries.push(entry);
    this.bytes += json.length;
    if (this.bytes > this.maxBytes) {
      const from = this.entries[this.head]!.seq;
      let dropped = 0;
      // Keep the newest event even if it alone is over the cap.
      while (this.bytes > this.maxBytes && this.size > 1) {
        this.bytes -= this.entries[this.head]!.json.length;
        this.head++;
        dropped++;
      }
      this.compact();
      this.onDrop(dropped, from, from + dropped - 1);
    }
    return entry;
  }

  /** Armory holds every event up to `seq`: forget them. */
  ack(seq: number): void {
    while (this.head < this.entries.length && this.entries[this.head]!.seq <= seq) {
      this.bytes -= this.entries[this.head]!.json.length;
      this.head++;
    }
    this.compact();
  }

  /** The events after `seq` still held, oldest first. */
  after(seq: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.seq > seq) out.push(this.entries[i]!);
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    } else if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    }
  }
}
