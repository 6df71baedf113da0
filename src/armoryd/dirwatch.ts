// fs.watch / fs.unwatch: directories Armory shows (an open file tree, an editor's file), watched
// natively so that what the agent writes reaches the browser. Each watch is one directory, not
// recursive (inotify watches are a per-user kernel budget shared by every container on the
// host): at most MAX_WATCHES per daemon, one more is refused ("limit").
//
// The directory is opened the no-follow way (files.ts: openDirectory) and watched through its
// descriptor (/proc/self/fd/<fd>), so a symbolic link swapped in for it, before or after, is never
// followed; the descriptor stays open for the life of the watch. Changed names are collected per
// directory (Burst: WATCH_QUIET_MS quiet, WATCH_MAX_MS at most, WATCH_MAX_PATHS names) and sent as
// one `fs.changed` event; each name is "written" when it exists at the end of the burst, else
// "deleted". armoryd's own temp files (fs.write's .armory-write-*.tmp) are not reported.
//
// A watched directory that vanishes (deleted: its link count drops to 0; or moved away: its path
// leads elsewhere) ends its watch with one last event (ended, the directory listed as deleted).
// The kernel says nothing when an empty directory is removed, so every watch is also checked
// every WATCH_CHECK_MS. Watches belong to the daemon process, not to a connection: they survive
// a reconnect (Armory, knowing the daemon, keeps them); a daemon Armory does not know any more
// (Armory restarted) drops them all (main.ts), and Armory sends the ones it wants again.
import fs from "node:fs";
import { MAX_WATCHES, WATCH_MAX_MS, WATCH_MAX_PATHS, WATCH_QUIET_MS, type DaemonEvent, type RequestParams, type RequestResult } from "../contracts/armoryd";
import { openDirectory } from "./files";
import { errorText, log } from "./log";
import { RequestError } from "./procs";

/** How often every watch is checked for a directory that vanished without an event. */
const WATCH_CHECK_MS = 1_000;

/** armoryd's own temp files (fs.write writes one beside its target, then renames it). */
export const OWN_TEMP_NAME = /^\.armory-write-\d+-[0-9a-f]{8}\.tmp$/;

/**
 * The changed names of one directory between two reports: due WATCH_QUIET_MS after the last
 * change, at the latest WATCH_MAX_MS after the first. Keeps at most `maxNames` names (the rest
 * only mark it truncated). Pure: times are passed in.
 */
export class Burst {
  private readonly names = new Set<string>();
  private first = 0;
  private last = 0;
  private over = false;

  constructor(
    private readonly quietMs = WATCH_QUIET_MS,
    private readonly maxMs = WATCH_MAX_MS,
    private readonly maxNames = WATCH_MAX_PATHS,
  ) {}

  get empty(): boolean {
    return !this.names.size && !this.over;
  }

  /** Notes a changed name (null: the kernel did not say which); returns when the burst is due. */
  note(name: string | null, now: number): number {
    if (this.empty) this.first = now;
    this.last = now;
    if (name === null || (!this.names.has(name) && this.names.size >= this.maxNames)) this.over = true;
    else this.names.add(name);
    return this.dueAt()!;
  }

  /** When the burst is to be reported; null when nothing changed. */
  dueAt(): number | null {
    return this.empty ? null : Math.min(this.last + this.quietMs, this.first + this.maxMs);
  }

  /** The names noted (in order) and whether more changed; starts a new burst. */
  take(): { names: string[]; truncated: boolean } {
    const out = { names: [...this.names], truncated: this.over };
    this.names.clear();
    this.over = false;
    return out;
  }
}

interface Watch {
  id: string;
  /** The directory as Armory named it (the reported paths start with it). */
  path: string;
  fd: number;
  dev: number;
  ino: number;
  watcher: fs.FSWatcher;
  burst: Burst;
  timer: ReturnType<typeof setTimeout> | null;
}

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

export class DirWatches {
  private readonly watches = new Map<string, Watch>();
  private checker: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly emit: (event: DaemonEvent) => void) {}

  get count(): number {
    return this.watches.size;
  }

  watch(p: RequestParams<"fs.watch">): RequestResult<"fs.watch"> {
    const existing = this.watches.get(p.watchId);
    if (!existing && this.watches.size >= MAX_WATCHES) {
      throw new RequestError("limit", `this agent's daemon already watches ${MAX_WATCHES} directories (its limit): close some file views`);
    }
    const fd = openDirectory(p.root, p.path);
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(`/proc/self/fd/${fd}`, { persistent: false }, (_event, name) => this.onEvent(p.watchId, name == null ? null : String(name)));
    } catch (err) {
      fs.closeSync(fd);
      throw new RequestError("internal", `cannot watch ${p.path}: ${errorText(err)}`);
    }
    if (existing) this.drop(existing);
    const st = fs.fstatSync(fd);
    const w: Watch = { id: p.watchId, path: p.path, fd, dev: st.dev, ino: st.ino, watcher, burst: new Burst(), timer: null };
    watcher.on("error", (err) => {
      log(`watch ${p.path}: ${errorText(err)}`);
      if (this.watches.get(p.watchId) === w) this.end(w, this.vanished(w));
    });
    this.watches.set(p.watchId, w);
    this.checker ??= setInterval(() => this.check(), WATCH_CHECK_MS);
    this.checker.unref?.();
    return { watches: this.watches.size };
  }

  unwatch(p: RequestParams<"fs.unwatch">): RequestResult<"fs.unwatch"> {
    const w = this.watches.get(p.watchId);
    if (w) this.drop(w);
    return { removed: !!w, watches: this.watches.size };
  }

  /** Ends every watch without a last event (Armory restarted, or the daemon stops). */
  stopAll(): void {
    for (const w of [...this.watches.values()]) this.drop(w);
  }

  private drop(w: Watch): void {
    if (this.watches.get(w.id) === w) this.watches.delete(w.id);
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    try {
      w.watcher.close();
    } catch {
      // closed already
    }
    try {
      fs.closeSync(w.fd);
    } catch {
      // closed already
    }
    if (!this.watches.size && this.checker) {
      clearInterval(this.checker);
      this.checker = null;
    }
  }

  private onEvent(id: string, name: string | null): void {
    const w = this.watches.get(id);
    if (!w) return;
    if (name !== null && (name.includes("/") || OWN_TEMP_NAME.test(name))) return;
    const due = w.burst.note(name, Date.now());
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => this.flush(w), Math.max(0, due - Date.now()));
  }

  /** True when the directory is gone: removed (no links left) or its path leads elsewhere now. */
  private vanished(w: Watch): boolean {
    try {
      if (fs.fstatSync(w.fd).nlink === 0) return true;
      const st = fs.lstatSync(w.path);
      return !st.isDirectory() || st.dev !== w.dev || st.ino !== w.ino;
    } catch {
      return true;
    }
  }

  private check(): void {
    for (const w of [...this.watches.values()]) if (this.vanished(w)) this.end(w, true);
  }

  /** The burst's names with what is there now. */
  private changes(w: Watch): { changes: { path: string; change: "written" | "deleted" }[]; truncated: boolean } {
    const { names, truncated } = w.burst.take();
    const changes = names.map((name) => {
      let exists = true;
      try {
        fs.lstatSync(`/proc/self/fd/${w.fd}/${name}`);
      } catch {
        exists = false;
      }
      return { path: join(w.path, name), change: exists ? ("written" as const) : ("deleted" as const) };
    });
    return { changes, truncated };
  }

  private flush(w: Watch): void {
    w.timer = null;
    if (this.watches.get(w.id) !== w) return;
    if (this.vanished(w)) return this.end(w, true);
    if (w.burst.empty) return;
    this.emit({ type: "fs.changed", watchId: w.id, ...this.changes(w), ended: false });
  }

  /** The watch's last event: what changed meanwhile, and the directory itself when it vanished. */
  private end(w: Watch, vanished: boolean): void {
    const { changes, truncated } = this.changes(w);
    if (vanished) changes.push({ path: w.path, change: "deleted" });
    this.drop(w);
    this.emit({ type: "fs.changed", watchId: w.id, changes, truncated, ended: true });
  }
}
