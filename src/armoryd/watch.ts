// The config watcher: the files Claude Code takes its instructions and settings from, watched
// with fs.watch on the directories that hold them (not recursive: /workspace can be huge), and
// reported as one config.reload per burst of changes (a burst ends after QUIET_MS without a
// change, and is reported at the latest MAX_MS after its first one). The watches are
// re-established (config.watching) when .claude, commands or agents appear or vanish.
import fs from "node:fs";
import { CLAUDE_CONFIG_DIR, WORKSPACE_DIR, type DaemonEvent } from "../contracts/armoryd";
import { errorText, log } from "./log";

export const CONFIG_DIR = CLAUDE_CONFIG_DIR;
export const INSTRUCTIONS_DIR = WORKSPACE_DIR;
const QUIET_MS = Number(process.env.ARMORY_WATCH_QUIET_MS) || 200;
const MAX_MS = Number(process.env.ARMORY_WATCH_MAX_MS) || 700;
/** Most file names one config.reload lists. */
const MAX_FILES = 40;

/** Patterns (a trailing /* means every file in that directory). */
export const INSTRUCTION_FILES = [
  `${INSTRUCTIONS_DIR}/CLAUDE.md`,
  `${INSTRUCTIONS_DIR}/CLAUDE.local.md`,
  `${INSTRUCTIONS_DIR}/.mcp.json`,
  `${INSTRUCTIONS_DIR}/.claude/CLAUDE.md`,
  `${INSTRUCTIONS_DIR}/.claude/settings.json`,
  `${INSTRUCTIONS_DIR}/.claude/settings.local.json`,
  `${INSTRUCTIONS_DIR}/.claude/commands/*`,
  `${INSTRUCTIONS_DIR}/.claude/agents/*`,
  `${CONFIG_DIR}/CLAUDE.md`,
  `${CONFIG_DIR}/settings.json`,
  `${CONFIG_DIR}/commands/*`,
  `${CONFIG_DIR}/agents/*`,
];

/** Directories whose appearance or disappearance changes what is watched. */
const DYNAMIC_DIRS = [
  `${INSTRUCTIONS_DIR}/.claude`,
  `${INSTRUCTIONS_DIR}/.claude/commands`,
  `${INSTRUCTIONS_DIR}/.claude/agents`,
  `${CONFIG_DIR}/commands`,
  `${CONFIG_DIR}/agents`,
];
const WATCH_DIRS = [INSTRUCTIONS_DIR, ...DYNAMIC_DIRS.slice(0, 3), CONFIG_DIR, ...DYNAMIC_DIRS.slice(3)];

export function isInstructionPath(p: string): boolean {
  for (const f of INSTRUCTION_FILES) {
    if (f.endsWith("/*") ? p.startsWith(f.slice(0, -1)) && p.length > f.length - 1 : p === f) return true;
  }
  return false;
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

export class ConfigWatcher {
  private watchers: fs.FSWatcher[] = [];
  private dirs: string[] = [];
  private changes = 0;
  private files: string[] = [];
  private seen = new Set<string>();
  private first = 0;
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly emit: (event: DaemonEvent) => void) {}

  start(): void {
    try {
      fs.mkdirSync(CONFIG_DIR, { recursive: true });
    } catch {
      // not ours to create: watched if it appears
    }
    this.establish();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearTimeout(this.timer);
  }

  /** (Re)opens one watch per existing directory; emits config.watching. */
  private establish(): void {
    if (this.stopped) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const dirs = WATCH_DIRS.filter(isDir);
    for (const dir of dirs) {
      try {
        const w = fs.watch(dir, { persistent: false }, (_event, name) => this.onEvent(dir, name == null ? null : String(name)));
        w.on("error", (err) => {
          log(`config watcher: ${dir}: ${errorText(err)}`);
          this.rewatchSoon();
        });
        this.watchers.push(w);
      } catch (err) {
        log(`config watcher: cannot watch ${dir}: ${errorText(err)}`);
      }
    }
    this.dirs = dirs;
    this.emit({ type: "config.watching", dirs, since: Date.now() });
  }

  private rewatchPending = false;
  private rewatchSoon(): void {
    if (this.rewatchPending) return;
    this.rewatchPending = true;
    setTimeout(() => {
      this.rewatchPending = false;
      this.establish();
    }, 50);
  }

  private onEvent(dir: string, name: string | null): void {
    if (this.stopped) return;
    if (name === null) {
      // The kernel did not say which (overflow): re-check the directories.
      if (WATCH_DIRS.filter(isDir).join("\0") !== this.dirs.join("\0")) this.rewatch();
      return;
    }
    const full = `${dir}/${name}`;
    if (DYNAMIC_DIRS.includes(full)) {
      const present = isDir(full);
      if (present !== this.dirs.includes(full)) {
        this.note(full);
        this.rewatch();
        // Files written into the new directory before its watch existed still count.
        if (present) this.scan(full, 2);
        return;
      }
    }
    if (isInstructionPath(full)) this.note(full);
  }

  private rewatch(): void {
    this.establish();
  }

  private scan(dir: string, depth: number): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = `${dir}/${e.name}`;
      if (e.isFile() && isInstructionPath(full)) this.note(full);
      else if (e.isDirectory() && depth > 1) this.scan(full, depth - 1);
    }
  }

  private note(file: string): void {
    const now = Date.now();
    if (this.changes === 0) this.first = now;
    this.last = now;
    this.changes++;
    if (!this.seen.has(file)) {
      this.seen.add(file);
      this.files.push(file);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const due = Math.min(this.last + QUIET_MS, this.first + MAX_MS);
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - Date.now()));
  }

  private flush(): void {
    this.timer = null;
    if (!this.changes) return;
    this.emit({
      type: "config.reload",
      files: this.files.slice(0, MAX_FILES),
      filesTruncated: this.files.length > MAX_FILES,
      changes: this.changes,
      changedAt: this.first,
      reportedAt: Date.now(),
    });
    this.changes = 0;
    this.files = [];
    this.seen.clear();
  }
}
