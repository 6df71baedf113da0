// term.*: login shells on a PTY (Bun.spawn's `terminal` option), as the agent user. Output goes
// out as term.data events (base64 bytes), the end as term.exit.
import { type DaemonEvent, type RequestParams, type RequestResult } from "../contracts/armoryd";
import { log } from "./log";
import { RequestError } from "./procs";

// The few Bun APIs used here, typed locally (the project's TypeScript setup has no Bun types).
interface BunTerminal {
  write(data: string | Uint8Array): number;
  resize(cols: number, rows: number): void;
  close(): void;
}
interface BunSubprocess {
  readonly pid: number;
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly terminal?: BunTerminal;
  kill(signal?: number | string): void;
}
interface BunSpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  terminal: { cols: number; rows: number; data(terminal: BunTerminal, bytes: Uint8Array): void };
}
interface BunLike {
  spawn(argv: string[], options: BunSpawnOptions): BunSubprocess;
}

function bun(): BunLike {
  const b = (globalThis as { Bun?: BunLike }).Bun;
  if (!b) throw new RequestError("internal", "terminals need the Bun runtime");
  return b;
}

interface Term {
  termId: string;
  proc: BunSubprocess;
  terminal: BunTerminal;
  exited: boolean;
}

export class Terminals {
  private readonly terms = new Map<string, Term>();

  constructor(
    private readonly emit: (event: DaemonEvent) => void,
    private readonly baseEnv: Record<string, string>,
  ) {}

  get count(): number {
    return this.terms.size;
  }

  ids(): string[] {
    return [...this.terms.keys()];
  }

  open(p: RequestParams<"term.open">): RequestResult<"term.open"> {
    if (this.terms.has(p.termId)) throw new RequestError("conflict", `terminal ${p.termId} is open already`);
    const termId = p.termId;
    const emit = this.emit;
    let proc: BunSubprocess;
    try {
      proc = bun().spawn(["bash", "-l"], {
        cwd: p.cwd,
        env: { ...this.baseEnv, TERM: "xterm-256color" },
        terminal: {
          cols: p.cols,
          rows: p.rows,
          data(_t, bytes) {
            emit({ type: "term.data", termId, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") });
          },
        },
      });
    } catch (err) {
      if (err instanceof RequestError) throw err;
      throw new RequestError("bad_request", `cannot open a terminal in ${p.cwd}: ${(err as Error).message}`);
    }
    const terminal = proc.terminal;
    if (!terminal) {
      proc.kill("SIGKILL");
      throw new RequestError("internal", "the runtime gave the shell no terminal");
    }
    const term: Term = { termId, proc, terminal, exited: false };
    this.terms.set(termId, term);
    void proc.exited.then((code) => {
      term.exited = true;
      try {
        terminal.close();
      } catch {
        // closed
      }
      this.terms.delete(termId);
      emit({ type: "term.exit", termId, exitCode: typeof code === "number" ? code : proc.exitCode });
    });
    log(`terminal ${termId} opened (pid ${proc.pid})`);
    return { pid: proc.pid };
  }

  private get(termId: string): Term {
    const t = this.terms.get(termId);
    if (!t || t.exited) throw new RequestError("not_found", `no open terminal ${termId}`);
    return t;
  }

  input(p: RequestParams<"term.input">): RequestResult<"term.input"> {
    this.get(p.termId).terminal.write(p.data);
    return {};
  }

  resize(p: RequestParams<"term.resize">): RequestResult<"term.resize"> {
    this.get(p.termId).terminal.resize(p.cols, p.rows);
    return {};
  }

  close(p: RequestParams<"term.close">): RequestResult<"term.close"> {
    const t = this.get(p.termId);
    killTerm(t);
    return {};
  }

  killAll(): void {
    for (const t of this.terms.values()) killTerm(t);
  }
}

/** The shell leads its own session: SIGHUP to its group (as a closed terminal would), then SIGKILL. */
function killTerm(t: Term): void {
  signalTerm(t, "SIGHUP");
  signalTerm(t, "SIGCONT");
  const timer = setTimeout(() => signalTerm(t, "SIGKILL"), 1000);
  void t.proc.exited.then(() => clearTimeout(timer));
}

function signalTerm(t: Term, sig: NodeJS.Signals): void {
  try {
    process.kill(-t.proc.pid, sig);
  } catch {
    try {
      t.proc.kill(sig);
    } catch {
      // gone
    }
  }
}
