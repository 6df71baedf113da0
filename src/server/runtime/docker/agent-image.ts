// The default agent image (docker/agent/): its tag, whether it exists, and how to build it with
// no registry at all. Everything goes through dockerode; only debootstrap, npm and tar run as
// local programs (they have no API).
//
// The no-registry build has four steps, each skipped when its result is already there:
//   base   Debian bookworm rootfs by debootstrap (with the image's packages included), imported
//          as armory-agent-base:bookworm. Needs root and debootstrap; 40-60 s.
//   cli    The Claude Code native binary from npm (@anthropic-ai/claude-code-linux-<arch>),
//          cached under ~/.cache/armory/claude-code/<version>/. About 175 MB, once; runs while
//          debootstrap does.
//   daemon armoryd (src/armoryd/) compiled into one executable by Bun (`bun build --compile`);
//          Bun itself comes from npm (@oven/bun-linux-<arch>), cached under
//          ~/.cache/armory/bun/<version>/ (about 50 MB, once). Compiling takes a few seconds.
//   image  docker/agent/Dockerfile built on that base with no network (the same Dockerfile
//          builds from debian:bookworm-slim where a registry is reachable). About 10 s.
// Builds are serialized across processes by a lock file in the cache directory.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import type Docker from "dockerode";

export const AGENT_IMAGE_REPO = "armory-agent";
/** The Claude Code release baked into the image (npm @anthropic-ai/claude-code), pinned exactly. */
export const CLAUDE_CODE_VERSION = "2.1.330";
/** Bump whenever the image contents change (Dockerfile, armoryd, packages). */
export const AGENT_IMAGE_REVISION = 8;
/** The Bun release that compiles armoryd (npm @oven/bun-linux-<arch>), pinned exactly. */
export const BUN_VERSION = "1.4.5";
/** The agent image version: Claude Code version plus revision, e.g. "2.1.330-r1". */
export const AGENT_IMAGE_VERSION = `${CLAUDE_CODE_VERSION}-r${AGENT_IMAGE_REVISION}`;
/** The locally imported Debian base the no-registry build starts from. */
export const AGENT_BASE_IMAGE = "armory-agent-base:bookworm";
const DEBIAN_SUITE = "bookworm";

export const AGENT_IMAGE_LABELS = {
  agentImage: "dev.armory.agent-image",
  version: "dev.armory.agent-version",
  claudeCodeVersion: "dev.armory.claude-code-version",
  /** Hash of the build inputs (Dockerfile, armoryd sources, versions): a mismatch rebuilds the image. */
  contentHash: "dev.armory.agent-content-hash",
  /** On the base image: the packages debootstrap included (a different list rebuilds the base). */
  basePackages: "dev.armory.base-packages",
} as const;

/** The image tag, which carries the version: `armory-agent:2.1.330-r1`. */
export function agentImageTag(): string {
  return `${AGENT_IMAGE_REPO}:${AGENT_IMAGE_VERSION}`;
}

export type AgentImagePhase = "base" | "cli" | "daemon" | "image" | "done";

export interface AgentImageProgress {
  phase: AgentImagePhase;
  message: string;
  /** 0-100 within the phase, when known. */
  percent?: number;
  /** Bytes downloaded or sent so far in this phase, when that is what the phase is doing. */
  bytes?: number;
}

export type AgentImageProgressListener = (p: AgentImageProgress) => void;

/** A failed build step, with what failed and why. */
export class AgentImageBuildError extends Error {
  constructor(
    public readonly phase: Exclude<AgentImagePhase, "done">,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Building the agent image failed at step "${phase}": ${message}`, options);
    this.name = "AgentImageBuildError";
  }
}

export interface BuildAgentImageOptions {
  docker: Docker;
  /** Defaults to agentImageTag(). */
  tag?: string;
  onProgress?: AgentImageProgressListener;
  /** Cache root; default $XDG_CACHE_HOME/armory or ~/.cache/armory (claude-code/<version>/, debootstrap/). */
  cacheDir?: string;
  /** Directory holding Dockerfile and armory-relay; default <cwd>/docker/agent (armoryd's sources are ../../src/armoryd/). */
  dockerDir?: string;
  /** Re-create the Debian base image even when it exists. */
  rebuildBase?: boolean;
  /**
   * Do nothing when the image is current once the build lock is held (another process may have
   * built it meanwhile). ensureAgentImage sets it; an explicit rebuild does not.
   */
  skipIfCurrent?: boolean;
}

export interface BuildAgentImageResult {
  tag: string;
  imageId: string;
  sizeBytes: number;
  durationMs: number;
  /** Per step: milliseconds spent, or "cached" when the step found its result present. */
  steps: Record<"base" | "cli" | "daemon" | "image", number | "cached">;
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | undefined)?.statusCode === 404;
}

function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string } | null; reason?: string; message?: string } | undefined;
  return String(e?.json?.message ?? e?.message ?? e?.reason ?? err).trim();
}

async function inspectImage(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function agentImageExists(docker: Docker, tag: string = agentImageTag()): Promise<boolean> {
  return (await inspectImage(docker, tag)) !== null;
}

/** The files of docker/agent/ that go into the build context. */
const DOCKER_DIR_FILES = ["Dockerfile", "armory-relay"];

/** The repository root of a docker/agent directory (armoryd's sources live under its src/). */
function repoRootOf(dockerDir: string): string {
  return path.resolve(dockerDir, "..", "..");
}

/** armoryd's sources: every file under src/armoryd/ but its tests, and the protocol contract. */
export function armorydSourceFiles(dockerDir: string = defaultAgentDockerDir()): string[] {
  const root = repoRootOf(dockerDir);
  const dir = path.join(root, "src", "armoryd");
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  return [...files.sort(), path.join("src", "contracts", "armoryd.ts")];
}

/**
 * Hash of what goes into the image besides the cached binaries: Dockerfile, relay, armoryd's
 * sources (src/armoryd/**, src/contracts/armoryd.ts) and the versions. Stored as a label, so an
 * edited daemon rebuilds the image even if AGENT_IMAGE_REVISION was not bumped (bump it anyway:
 * the tag is the version).
 */
export function agentImageContentHash(dockerDir: string = defaultAgentDockerDir()): string {
  const h = createHash("sha256").update(`${AGENT_IMAGE_VERSION}\0${CLAUDE_CODE_VERSION}\0${BUN_VERSION}\0`);
  for (const f of DOCKER_DIR_FILES) h.update(fs.readFileSync(path.join(dockerDir, f))).update("\0");
  const root = repoRootOf(dockerDir);
  for (const f of armorydSourceFiles(dockerDir)) h.update(f).update("\0").update(fs.readFileSync(path.join(root, f))).update("\0");
  return h.digest("hex").slice(0, 16);
}

export type AgentImageStatus = "missing" | "stale" | "current";

/**
 * "current" when the engine has the tag and it was built from the present docker/agent files;
 * "stale" when it exists but was built from other files; "missing" otherwise. An image without
 * the label (built by hand with docker build) or without readable docker/agent files to compare
 * counts as current.
 */
export async function agentImageStatus(
  docker: Docker,
  opts: { tag?: string; dockerDir?: string } = {},
): Promise<AgentImageStatus> {
  const info = await inspectImage(docker, opts.tag ?? agentImageTag());
  if (!info) return "missing";
  let want: string;
  try {
    want = agentImageContentHash(opts.dockerDir);
  } catch {
    return "current";
  }
  const have = info.Config?.Labels?.[AGENT_IMAGE_LABELS.contentHash];
  // No label: built by hand from the Dockerfile (the registry path); trust the tag.
  return have === undefined || have === want ? "current" : "stale";
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache"), "armory");
}

export function defaultAgentDockerDir(): string {
  return path.join(process.cwd(), "docker", "agent");
}

/** The Debian packages the image needs: the AGENT_PACKAGES default in docker/agent/Dockerfile. */
export function readAgentPackages(dockerDir: string = defaultAgentDockerDir()): string[] {
  const file = path.join(dockerDir, "Dockerfile");
  const text = fs.readFileSync(file, "utf8");
  const m = /^ARG AGENT_PACKAGES="([a-z0-9.+\- ]+)"\s*$/m.exec(text);
  if (!m?.[1]) throw new Error(`${file} has no line ARG AGENT_PACKAGES="..." (space-separated package names)`);
  return m[1].split(/\s+/).filter(Boolean);
}

// ---- processes --------------------------------------------------------------------------------

function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Calls onLine for every line of the stream (the last partial line included). */
function eachLine(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  });
  stream.on("end", () => {
    if (buf) onLine(buf);
    buf = "";
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
}

interface RunResult {
  stdout: string;
  tail: string[];
}

/** Runs a program; collects stdout, streams every output line to onLine, rejects with the last lines. */
async function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; onLine?: (line: string) => void; what: string },
): Promise<RunResult> {
  const child = spawn(file, args, { cwd: opts.cwd, env: (opts.env ?? process.env) as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  let stdout = "";
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 25) tail.shift();
    opts.onLine?.(line);
  };
  child.stdout.on("data", (c: Buffer | string) => {
    if (stdout.length < 1_000_000) stdout += String(c);
  });
  eachLine(child.stdout, keep);
  eachLine(child.stderr, keep);
  let result;
  try {
    result = await exited(child);
  } catch (err) {
    throw new Error(`${opts.what}: could not run ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
    throw Object.assign(new Error(`${opts.what} ${how}${tail.length ? `; last output:\n  ${tail.join("\n  ")}` : ""}`), {
      what: `${opts.what} ${how}`,
      tail,
    });
  }
  return { stdout, tail };
}

/** A tar stream of `entries` (paths relative to their -C directory), produced by the tar program. */
function tarStream(args: string[], what: string): { stream: Readable; done: Promise<void> } {
  const child = spawn("tar", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 10_000) stderr += c.toString("utf8");
  });
  const done = exited(child).then(
    ({ code, signal }) => {
      if (code !== 0) throw new Error(`tar (${what}) ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim()}`);
    },
    (err: Error) => {
      throw new Error(`could not run tar (${what}): ${err.message}`, { cause: err });
    },
  );
  done.catch(() => undefined); // observed by the caller
  return { stream: child.stdout, done };
}

interface EngineMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Reads an engine NDJSON progress stream to its end; rejects on an `error` message. */
function readEngineStream(stream: NodeJS.ReadableStream, onMessage: (m: EngineMessage) => void): Promise<EngineMessage[]> {
  return new Promise((resolve, reject) => {
    const all: EngineMessage[] = [];
    let failed: string | null = null;
    let settled = false;
    eachLine(stream as Readable, (line) => {
      let m: EngineMessage;
      try {
        m = JSON.parse(line) as EngineMessage;
      } catch {
        m = { stream: line };
      }
      all.push(m);
      if (m.error || m.errorDetail?.message) failed ??= (m.errorDetail?.message ?? m.error ?? "").trim();
      onMessage(m);
    });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else if (failed) reject(new Error(failed));
      else resolve(all);
    };
    stream.on("error", (err: Error) => finish(err));
    // "end" fires after eachLine's own "end" handler (registered first), so the last line is in.
    stream.on("end", () => finish());
    stream.on("close", () => setImmediate(() => finish()));
  });
}

// ---- step 1: the Debian base ------------------------------------------------------------------

/**
 * The Debian mirror to debootstrap from: ARMORY_DEBIAN_MIRROR, else the host's own apt sources
 * (/etc/apt/sources.list and sources.list.d, one-line and deb822 formats), preferring an entry
 * for bookworm; security, updates and backports entries are not full mirrors and are skipped.
 */
export function debianMirrorFromHost(root = "/etc/apt"): string | null {
  const fromEnv = process.env.ARMORY_DEBIAN_MIRROR?.trim();
  if (fromEnv) return fromEnv;
  const entries: { uri: string; suites: string[] }[] = [];
  const files: string[] = [];
  if (fs.existsSync(path.join(root, "sources.list"))) files.push(path.join(root, "sources.list"));
  const dir = path.join(root, "sources.list.d");
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir).sort()) {
      if (f.endsWith(".list") || f.endsWith(".sources")) files.push(path.join(dir, f));
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    if (file.endsWith(".list")) {
      for (const raw of text.split("\n")) {
        const line = raw.replace(/#.*/, "").trim();
        // deb [options] uri suite components...
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (m?.[1] && m[2]) entries.push({ uri: m[1], suites: [m[2]] });
      }
    } else {
      for (const stanza of text.split(/\n\s*\n/)) {
        const fields = new Map<string, string>();
        let last = "";
        for (const raw of stanza.split("\n")) {
          if (raw.startsWith("#")) continue;
          const cont = /^\s+(\S.*)$/.exec(raw);
          if (cont?.[1] && last) {
            fields.set(last, `${fields.get(last)} ${cont[1]}`);
            continue;
          }
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
          if (m?.[1]) {
            last = m[1].toLowerCase();
            fields.set(last, m[2] ?? "");
          }
        }
        if (!(fields.get("types") ?? "").split(/\s+/).includes("deb")) continue;
        if (/^(no|false)$/i.test(fields.get("enabled") ?? "")) continue;
        const suites = (fields.get("suites") ?? "").split(/\s+/).filter(Boolean);
        for (const uri of (fields.get("uris") ?? "").split(/\s+/).filter(Boolean)) entries.push({ uri, suites });
      }
    }
  }
  const full = entries.filter(
    (e) => /^(https?|file):/.test(e.uri) && !/security/i.test(e.uri) && e.suites.some((s) => !s.includes("-") && !s.includes("/")),
  );
  const pick = full.find((e) => e.suites.includes(DEBIAN_SUITE)) ?? full.find((e) => /\/debian\/?$/.test(e.uri));
  return pick ? pick.uri.replace(/\/+$/, "") : null;
}

/** Rough debootstrap progress from its "I: ..." lines (about four per package), never going back. */
function debootstrapProgress() {
  let fetched = 0;
  let steps = 0;
  let expected = 460;
  let shown = 0;
  return (line: string): number | undefined => {
    const m = /^I: (Validating|Extracting|Unpacking|Configuring|Chosen extractor)\b/.exec(line);
    if (!m) return undefined;
    if (m[1] === "Chosen extractor") {
      // Every package was fetched (one "Validating" line each); the rest is about 2.8 lines each.
      expected = Math.max(fetched * 3.8, steps + 10);
      return undefined;
    }
    if (m[1] === "Validating") fetched++;
    steps++;
    shown = Math.max(shown, Math.min(95, Math.round((steps / expected) * 95)));
    return shown;
  };
}

async function unmountUnder(dir: string): Promise<void> {
  let mounts: string[] = [];
  try {
    mounts = (await fsp.readFile("/proc/mounts", "utf8"))
      .split("\n")
      .map((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " "))
      .filter((m) => m === dir || m.startsWith(dir + "/"))
      .sort((a, b) => b.length - a.length);
  } catch {
    return;
  }
  for (const m of mounts) await run("umount", ["-l", m], { what: `umount ${m}` }).catch(() => undefined);
}

/** Removes a debootstrap target, never following a mount that a failed run left behind. */
async function removeRootfs(dir: string): Promise<void> {
  await unmountUnder(dir);
  const left = (await fsp.readFile("/proc/mounts", "utf8").catch(() => ""))
    .split("\n")
    .some((l) => (l.split(" ")[1] ?? "").startsWith(dir + "/"));
  if (left) throw new Error(`${dir} still has mounts; not removing it`);
  await fsp.rm(dir, { recursive: true, force: true });
}

const UNSAFE_IO_FILE = "etc/dpkg/dpkg.cfg.d/armory-bootstrap-unsafe-io";

async function buildBaseImage(opts: {
  docker: Docker;
  /** The image to import the rootfs as (repo:tag). */
  image: string;
  packages: string[];
  cacheDir: string;
  emit: AgentImageProgressListener;
}): Promise<void> {
  const { docker, image, packages, emit } = opts;
  const fail = (msg: string, cause?: unknown) => new AgentImageBuildError("base", msg, { cause });

  const debootstrap = findExecutable("debootstrap");
  if (!debootstrap) throw fail("debootstrap is not installed (apt-get install debootstrap)");
  if (process.getuid?.() !== 0) throw fail("debootstrap must run as root to create the Debian base image");
  const mirror = debianMirrorFromHost();
  if (!mirror) {
    throw fail("found no Debian mirror in the host's /etc/apt/sources.list(.d); set ARMORY_DEBIAN_MIRROR to one");
  }
  await removeStaleRootfs();
  const debCache = path.join(opts.cacheDir, "debootstrap", DEBIAN_SUITE);
  await fsp.mkdir(debCache, { recursive: true });
  const args = (rootfs: string) => [
    "--variant=minbase",
    ...(packages.length ? [`--include=${packages.join(",")}`] : []),
    // Downloaded .debs are kept here: a retry or a later rebuild fetches only what changed.
    `--cache-dir=${debCache}`,
    DEBIAN_SUITE,
    rootfs,
    mirror,
  ];

  let rootfs = "";
  try {
    // Mirrors fail a download now and then ("Couldn't download packages: ..."): one retry, which
    // reuses every package the first attempt fetched.
    for (let attempt = 1; ; attempt++) {
      rootfs = await fsp.mkdtemp(path.join(os.tmpdir(), `${ROOTFS_PREFIX}${process.pid}-`));
      // mkdtemp makes it 0700, and the tar's "." entry becomes the image's "/": keep it 0755.
      await fsp.chmod(rootfs, 0o755);
      // dpkg without fsync for the bootstrap (as mmdebstrap does): a fifth faster; removed after.
      await fsp.mkdir(path.join(rootfs, "etc/dpkg/dpkg.cfg.d"), { recursive: true });
      await fsp.writeFile(path.join(rootfs, UNSAFE_IO_FILE), "force-unsafe-io\n");
      emit({
        phase: "base",
        message: `debootstrap ${DEBIAN_SUITE} (minbase + ${packages.join(", ")}) from ${mirror}${attempt > 1 ? ` (attempt ${attempt})` : ""}`,
        percent: 0,
      });
      const progress = debootstrapProgress();
      try {
        await run(debootstrap, args(rootfs), {
          what: "debootstrap",
          env: { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" },
          onLine: (line) => emit({ phase: "base", message: line.replace(/^I: /, ""), percent: progress(line) }),
        });
        break;
      } catch (err) {
        const why = await debootstrapFailure(err, rootfs);
        await removeRootfs(rootfs).catch(() => undefined);
        rootfs = "";
        if (attempt >= 2) throw fail(why, err);
        emit({ phase: "base", message: `${why.split("\n")[0]}; retrying once` });
      }
    }

    // Slim the rootfs: no package lists or caches, no manuals or translations; the engine
    // provides /etc/hostname, /etc/hosts and /etc/resolv.conf to containers.
    emit({ phase: "base", message: "trimming the rootfs", percent: 95 });
    for (const rel of ["var/lib/apt/lists", "var/cache/apt", "var/cache/debconf", "var/log", "usr/share/man", "usr/share/info"]) {
      const dir = path.join(rootfs, rel);
      for (const e of await fsp.readdir(dir).catch(() => [] as string[])) {
        if (e === "partial" || e === "lock") continue;
        await fsp.rm(path.join(dir, e), { recursive: true, force: true });
      }
    }
    const locales = path.join(rootfs, "usr/share/locale");
    for (const e of await fsp.readdir(locales).catch(() => [] as string[])) {
      if (e !== "locale.alias") await fsp.rm(path.join(locales, e), { recursive: true, force: true });
    }
    for (const rel of ["etc/hostname", "etc/resolv.conf", "etc/machine-id", UNSAFE_IO_FILE]) {
      await fsp.rm(path.join(rootfs, rel), { force: true });
    }
    await fsp.writeFile(
      path.join(rootfs, "etc/dpkg/dpkg.cfg.d/armory-slim"),
      "# As in Debian's slim images: no manuals or translations from later installs.\n" +
        "path-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n" +
        "path-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n",
    );

    emit({ phase: "base", message: `importing the rootfs as ${image}`, percent: 96 });
    const [repo, tag] = image.split(":") as [string, string];
    const tar = tarStream(
      ["--numeric-owner", "-C", rootfs, "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./run/*", "--exclude=./tmp/*", "--exclude=./debootstrap", "-cf", "-", "."],
      "rootfs",
    );
    let sent = 0;
    let lastReport = 0;
    tar.stream.on("data", (c: Buffer) => {
      sent += c.length;
      if (sent - lastReport >= 32 * 1024 * 1024) {
        lastReport = sent;
        emit({ phase: "base", message: "importing the rootfs", percent: 96, bytes: sent });
      }
    });
    try {
      const res = await docker.importImage(tar.stream, {
        repo,
        tag,
        message: `debootstrap --variant=minbase ${DEBIAN_SUITE}`,
        changes: [
          `LABEL ${AGENT_IMAGE_LABELS.basePackages}="${packages.join(" ")}"`,
          "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          'CMD ["/bin/bash"]',
        ],
      });
      await readEngineStream(res, () => undefined);
      await tar.done;
    } catch (err) {
      tar.stream.destroy(); // tar then ends on a broken pipe instead of blocking
      throw fail(`importing the rootfs into the engine failed: ${engineMessage(err)}`, err);
    }
    emit({ phase: "base", message: `imported ${image}`, percent: 100, bytes: sent });
  } finally {
    if (rootfs) await removeRootfs(rootfs).catch(() => undefined);
  }
}

/** What went wrong in a debootstrap run, from its E:/W: lines and the errors in its log. */
async function debootstrapFailure(err: unknown, rootfs: string): Promise<string> {
  const e = err as Error & { what?: string; tail?: string[] };
  if (!e.tail) return e.message;
  const said = e.tail.filter((l) => /^[EW]: /.test(l));
  const log = await fsp.readFile(path.join(rootfs, "debootstrap", "debootstrap.log"), "utf8").catch(() => "");
  const logErrors = log
    .split("\n")
    .filter((l) => /fail|error|refused|not found|timed out|unable|cannot/i.test(l))
    .slice(-5);
  const lines = [...(said.length ? said : e.tail.slice(-5)), ...logErrors.map((l) => `(log) ${l}`)];
  return `${e.what ?? "debootstrap failed"}:\n  ${lines.join("\n  ")}`;
}

async function ensureBaseImage(opts: {
  docker: Docker;
  /** Default AGENT_BASE_IMAGE. */
  image?: string;
  packages: string[];
  cacheDir: string;
  rebuild: boolean;
  emit: AgentImageProgressListener;
}): Promise<number | "cached"> {
  const image = opts.image ?? AGENT_BASE_IMAGE;
  const info = await inspectImage(opts.docker, image);
  const want = opts.packages.join(" ");
  const have = info?.Config?.Labels?.[AGENT_IMAGE_LABELS.basePackages];
  if (info && have === want && !opts.rebuild) {
    opts.emit({ phase: "base", message: `${image} is present`, percent: 100 });
    return "cached";
  }
  if (info && have !== want) {
    opts.emit({ phase: "base", message: `${image} has other packages (${have ?? "unknown"}); rebuilding it` });
  }
  const started = performance.now();
  await buildBaseImage({ ...opts, image });
  return Math.round(performance.now() - started);
}

/**
 * A Debian bookworm base image made the way the agent image's base is (debootstrap minbase with
 * `packages` included, trimmed, imported as `image`), unless the engine has it with the same
 * packages. Shares the agent image's build lock and package cache. Used for the app image's
 * local Node and PostgreSQL bases (scripts/app-image.ts). Milliseconds spent, or "cached".
 */
export async function ensureDebianBaseImage(opts: {
  docker: Docker;
  image: string;
  packages: string[];
  cacheDir?: string;
  rebuild?: boolean;
  onProgress?: AgentImageProgressListener;
}): Promise<number | "cached"> {
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  const emit: AgentImageProgressListener = (p) => {
    try {
      opts.onProgress?.(p);
    } catch {
      // a failing progress listener must not break the build
    }
  };
  return withBuildLock(cacheDir, emit, () =>
    ensureBaseImage({ docker: opts.docker, image: opts.image, packages: opts.packages, cacheDir, rebuild: !!opts.rebuild, emit }),
  );
}

// ---- step 2: the Claude Code binary -----------------------------------------------------------

const ENGINE_ARCH: Record<string, string> = { amd64: "x64", x86_64: "x64", arm64: "arm64", aarch64: "arm64" };
const HOST_ARCH: Record<string, string> = { x64: "x64", arm64: "arm64" };

/** Runs `<binary> --version` (offline, writes nothing) and returns the version it reports. */
async function claudeVersionOf(binary: string): Promise<string> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), "armory-claude-home-"));
  try {
    const { stdout } = await run(binary, ["--version"], {
      what: `${binary} --version`,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
      },
    });
    return stdout.trim().split(/\s+/)[0] ?? "";
  } finally {
    await fsp.rm(home, { recursive: true, force: true });
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await fsp.stat(path.join(e.parentPath, e.name)).catch(() => null);
    total += st?.size ?? 0;
  }
  return total;
}

/**
 * `npm pack <pkg>@<version>` into `work` (a private npm cache there makes the download
 * measurable: its size is the number of bytes received so far); returns the tarball's path.
 */
async function npmPack(opts: {
  pkg: string;
  version: string;
  work: string;
  phase: "cli" | "daemon";
  emit: AgentImageProgressListener;
  fail: (msg: string, cause?: unknown) => AgentImageBuildError;
}): Promise<string> {
  const { pkg, version, work, phase, emit } = opts;
  const npmCache = path.join(work, "npm-cache");
  emit({ phase, message: `npm pack ${pkg}@${version}`, percent: 0, bytes: 0 });
  let polling = true;
  const poll = (async () => {
    let last = -1;
    while (polling) {
      await new Promise((r) => setTimeout(r, 1000));
      const bytes = await dirSize(npmCache);
      if (polling && bytes !== last) {
        last = bytes;
        emit({ phase, message: `downloading ${pkg}`, bytes });
      }
    }
  })();
  try {
    const npm = findExecutable("npm");
    if (!npm) throw new Error("npm is not on PATH");
    const { stdout } = await run(
      npm,
      ["pack", `${pkg}@${version}`, "--json", "--pack-destination", work, "--cache", npmCache, "--no-audit", "--no-fund", "--loglevel=error"],
      { what: `npm pack ${pkg}@${version}`, cwd: work },
    );
    const info = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename?: string }[];
    const name = info[0]?.filename;
    if (!name) throw new Error(`npm pack did not name the tarball it wrote: ${stdout.slice(0, 300)}`);
    return path.join(work, name);
  } catch (err) {
    throw opts.fail(`downloading ${pkg}@${version} with npm failed: ${(err as Error).message}`, err);
  } finally {
    polling = false;
    await poll;
  }
}

/**
 * A binary from an npm package for the engine's architecture (`<pkgBase>-linux-<arch>`), cached
 * under `<cacheDir>/<cacheName>/<version>/linux-<arch>/` after one `npm pack`; checked by the
 * version it reports whenever it can run here (`mustRunHere`: it is needed on this host).
 */
async function ensureNpmBinary(opts: {
  docker: Docker;
  cacheDir: string;
  emit: AgentImageProgressListener;
  phase: "cli" | "daemon";
  /** Shown in messages: "Claude Code", "Bun". */
  label: string;
  pkgBase: string;
  version: string;
  cacheName: string;
  /** The binary's path inside the package tarball, e.g. package/bin/bun. */
  member: string;
  fileName: string;
  versionOf: (binary: string) => Promise<string>;
  mustRunHere: boolean;
  /** The percent the phase is at when the binary is ready. */
  donePercent: number;
}): Promise<{ file: string; took: number | "cached" }> {
  const { emit, phase, label, version } = opts;
  const fail = (msg: string, cause?: unknown) => new AgentImageBuildError(phase, msg, { cause });
  let engineArch = "amd64";
  try {
    engineArch = (await opts.docker.version()).Arch ?? engineArch;
  } catch (err) {
    throw fail(`could not ask the Docker engine for its architecture: ${engineMessage(err)}`, err);
  }
  const arch = ENGINE_ARCH[engineArch];
  if (!arch) throw fail(`no ${label} build for the engine's architecture ${engineArch}`);
  const canRunHere = HOST_ARCH[process.arch] === arch && process.platform === "linux";
  if (opts.mustRunHere && !canRunHere) {
    throw fail(`${label} runs on this host for linux-${arch}: the host (${process.platform}-${process.arch}) must match the engine`);
  }
  const pkg = `${opts.pkgBase}-linux-${arch}`;
  const dir = path.join(opts.cacheDir, opts.cacheName, version, `linux-${arch}`);
  const file = path.join(dir, opts.fileName);
  if (fs.existsSync(file)) {
    const v = canRunHere ? await opts.versionOf(file).catch(() => "") : version;
    if (v === version) {
      emit({ phase, message: `${label} ${v} is cached (${file})`, percent: opts.donePercent });
      return { file, took: "cached" };
    }
    emit({ phase, message: `cached ${label} ${file} is unusable (reports "${v}"); downloading again` });
  }
  const started = performance.now();
  await fsp.mkdir(dir, { recursive: true });
  const work = await fsp.mkdtemp(path.join(dir, ".download-"));
  try {
    const packed = await npmPack({ pkg, version, work, phase, emit, fail });
    const tgzSize = (await fsp.stat(packed)).size;
    emit({ phase, message: `downloaded ${pkg}@${version}; extracting`, percent: Math.round(opts.donePercent * 0.8), bytes: tgzSize });
    try {
      await run("tar", ["-xzf", packed, "-C", work, opts.member], { what: `extracting ${opts.member}` });
    } catch (err) {
      throw fail(`the npm tarball has no usable ${opts.member}: ${(err as Error).message}`, err);
    }
    const extracted = path.join(work, opts.member);
    await fsp.chmod(extracted, 0o755);
    if (canRunHere) {
      const v = await opts.versionOf(extracted).catch((err: Error) => `error: ${err.message}`);
      if (v !== version) throw fail(`the downloaded ${label} does not report version ${version} (it says: ${v})`);
    }
    await fsp.rename(extracted, file);
    emit({ phase, message: `${label} ${version} ready (${file})`, percent: opts.donePercent, bytes: tgzSize });
    return { file, took: Math.round(performance.now() - started) };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** The cached Claude Code binary for the engine's architecture; downloaded with `npm pack` once. */
function ensureClaudeBinary(opts: { docker: Docker; cacheDir: string; emit: AgentImageProgressListener }): Promise<{ file: string; took: number | "cached" }> {
  return ensureNpmBinary({
    ...opts,
    phase: "cli",
    label: "Claude Code",
    pkgBase: "@anthropic-ai/claude-code",
    version: CLAUDE_CODE_VERSION,
    cacheName: "claude-code",
    member: "package/claude",
    fileName: "claude",
    versionOf: claudeVersionOf,
    mustRunHere: false,
    donePercent: 100,
  });
}

// ---- step 2b: armoryd, compiled by Bun ------------------------------------------------------------

/** Runs `<bun> --version` and returns what it reports. */
async function bunVersionOf(binary: string): Promise<string> {
  const { stdout } = await run(binary, ["--version"], { what: `${binary} --version`, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BUN_INSTALL_CACHE_DIR: os.tmpdir() } });
  return stdout.trim();
}

/**
 * The cached Bun binary (npm @oven/bun-linux-<arch>), downloaded with `npm pack` once. It runs
 * here to compile armoryd, so the host must have the engine's architecture (Bun cross-compiles
 * only by downloading other runtimes).
 */
function ensureBunBinary(opts: { docker: Docker; cacheDir: string; emit: AgentImageProgressListener }): Promise<{ file: string; took: number | "cached" }> {
  return ensureNpmBinary({
    ...opts,
    phase: "daemon",
    label: "Bun",
    pkgBase: "@oven/bun",
    version: BUN_VERSION,
    cacheName: "bun",
    member: "package/bin/bun",
    fileName: "bun",
    versionOf: bunVersionOf,
    mustRunHere: true,
    donePercent: 50,
  });
}

/** Compiles src/armoryd/main.ts into one executable `<outDir>/armoryd`. */
async function compileArmoryd(opts: { docker: Docker; cacheDir: string; dockerDir: string; outDir: string; emit: AgentImageProgressListener }): Promise<{ file: string; took: number }> {
  const bun = await ensureBunBinary(opts);
  const started = performance.now();
  const fail = (msg: string, cause?: unknown) => new AgentImageBuildError("daemon", msg, { cause });
  const root = repoRootOf(opts.dockerDir);
  const entry = path.join(root, "src", "armoryd", "main.ts");
  if (!fs.existsSync(entry)) throw fail(`${entry} is missing`);
  const file = path.join(opts.outDir, "armoryd");
  opts.emit({ phase: "daemon", message: `bun build --compile src/armoryd/main.ts`, percent: 60 });
  try {
    await run(bun.file, ["build", "--compile", "--minify", entry, "--outfile", file], {
      what: "bun build --compile",
      cwd: root,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir(), BUN_INSTALL_CACHE_DIR: path.join(opts.outDir, ".bun-cache"), NO_COLOR: "1" },
      onLine: (line) => opts.emit({ phase: "daemon", message: line.trim(), percent: 70 }),
    });
  } catch (err) {
    throw fail(`compiling armoryd failed: ${(err as Error).message}`, err);
  }
  const size = (await fsp.stat(file)).size;
  opts.emit({ phase: "daemon", message: `armoryd compiled (${(size / 1e6).toFixed(0)} MB)`, percent: 100, bytes: size });
  return { file, took: Math.round(performance.now() - started) };
}

// ---- step 3: the image ------------------------------------------------------------------------

async function buildFromDockerfile(opts: {
  docker: Docker;
  tag: string;
  dockerDir: string;
  claudeFile: string;
  daemonFile: string;
  emit: AgentImageProgressListener;
}): Promise<string> {
  const { docker, emit } = opts;
  const fail = (msg: string, cause?: unknown) => new AgentImageBuildError("image", msg, { cause });
  for (const f of DOCKER_DIR_FILES) {
    if (!fs.existsSync(path.join(opts.dockerDir, f))) throw fail(`${path.join(opts.dockerDir, f)} is missing`);
  }
  // Build context: the Dockerfile, the relay, armoryd and the cached CLI, as one uncompressed tar.
  const tar = tarStream(
    [
      "--numeric-owner", "--owner=0", "--group=0", "-cf", "-",
      "-C", opts.dockerDir, ...DOCKER_DIR_FILES,
      "-C", path.dirname(opts.daemonFile), path.basename(opts.daemonFile),
      "-C", path.dirname(opts.claudeFile), path.basename(opts.claudeFile),
    ],
    "build context",
  );
  const contextSize = (await fsp.stat(opts.claudeFile)).size + (await fsp.stat(opts.daemonFile)).size;
  let sent = 0;
  let lastReport = 0;
  tar.stream.on("data", (c: Buffer) => {
    sent += c.length;
    if (sent - lastReport >= 64 * 1024 * 1024) {
      lastReport = sent;
      emit({ phase: "image", message: "sending the build context", percent: Math.min(30, Math.round((sent / contextSize) * 30)), bytes: sent });
    }
  });
  emit({ phase: "image", message: `docker build ${opts.tag} (FROM ${AGENT_BASE_IMAGE}, no network)`, percent: 0 });
  let imageId = "";
  try {
    const res = await docker.buildImage(tar.stream, {
      t: opts.tag,
      dockerfile: "Dockerfile",
      buildargs: {
        BASE_IMAGE: AGENT_BASE_IMAGE,
        AGENT_VERSION: AGENT_IMAGE_VERSION,
        CLAUDE_CODE_VERSION,
      },
      labels: { [AGENT_IMAGE_LABELS.contentHash]: agentImageContentHash(opts.dockerDir) },
      networkmode: "none",
      rm: true,
      forcerm: true,
      pull: false,
    });
    await readEngineStream(res, (m) => {
      if (m.aux?.ID) imageId = m.aux.ID;
      const text = (m.stream ?? m.status ?? "").trim();
      if (!text) return;
      const step = /^Step (\d+)\/(\d+)/.exec(text);
      const percent = step ? 30 + Math.round(((Number(step[1]) - 1) / Number(step[2])) * 70) : undefined;
      for (const line of text.split("\n")) emit({ phase: "image", message: line, percent });
    });
    await tar.done;
  } catch (err) {
    tar.stream.destroy();
    throw fail(engineMessage(err), err);
  }
  return imageId;
}

// ---- cross-process lock and leftovers -------------------------------------------------------------

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs fn holding <cacheDir>/agent-image.lock (a pid file; a dead holder's lock is taken over). */
async function withBuildLock<T>(cacheDir: string, emit: AgentImageProgressListener, fn: () => Promise<T>): Promise<T> {
  await fsp.mkdir(cacheDir, { recursive: true });
  const file = path.join(cacheDir, "agent-image.lock");
  const waitStarted = performance.now();
  let lastNotice = -Infinity;
  for (;;) {
    try {
      await fsp.writeFile(file, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new AgentImageBuildError("base", `cannot create the build lock ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = Number((await fsp.readFile(file, "utf8").catch(() => "")).trim());
    if (!processAlive(holder)) {
      await fsp.rm(file, { force: true }); // left by a process that died
      continue;
    }
    const waited = performance.now() - waitStarted;
    if (waited - lastNotice >= 5000) {
      lastNotice = waited;
      emit({ phase: "base", message: `waiting for the agent image build in process ${holder} (${Math.round(waited / 1000)}s)` });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(file, { force: true });
  }
}

const ROOTFS_PREFIX = "armory-agent-rootfs-";

/**
 * Removes debootstrap targets left by builds whose process died (killed test workers, Ctrl-C):
 * the directory name carries the builder's pid. Mounts left inside (a killed debootstrap keeps
 * /proc mounted) are detached first.
 */
async function removeStaleRootfs(): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await fsp.readdir(tmp).catch(() => [] as string[])) {
    if (!name.startsWith(ROOTFS_PREFIX)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(ROOTFS_PREFIX.length))?.[1]);
    if (processAlive(pid)) continue;
    if (!pid) {
      // No pid in the name: only when clearly abandoned.
      const st = await fsp.stat(path.join(tmp, name)).catch(() => null);
      if (!st || Date.now() - st.mtimeMs < 30 * 60_000) continue;
    }
    await removeRootfs(path.join(tmp, name)).catch(() => undefined);
  }
}

// ---- the whole build ----------------------------------------------------------------------------

/** Builds the agent image with no registry: base (if missing), CLI binary (if not cached), image. */
export async function buildAgentImage(opts: BuildAgentImageOptions): Promise<BuildAgentImageResult> {
  const { docker } = opts;
  const tag = opts.tag ?? agentImageTag();
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  const dockerDir = path.resolve(opts.dockerDir ?? defaultAgentDockerDir());
  const emit: AgentImageProgressListener = (p) => {
    try {
      opts.onProgress?.(p);
    } catch {
      // a failing progress listener must not break the build
    }
  };
  const started = performance.now();

  let packages: string[];
  try {
    packages = readAgentPackages(dockerDir);
  } catch (err) {
    throw new AgentImageBuildError("base", (err as Error).message, { cause: err });
  }

  // One build at a time per cache directory, across processes (the server, the script and test
  // workers may all ask at once; two debootstraps sharing a package cache break each other).
  return withBuildLock(cacheDir, emit, async () => {
    if (opts.skipIfCurrent && (await agentImageStatus(docker, { tag, dockerDir })) === "current") {
      const info = await docker.getImage(tag).inspect();
      emit({ phase: "done", message: `${tag} is present (built by another process)`, percent: 100 });
      return {
        tag,
        imageId: info.Id,
        sizeBytes: info.Size,
        durationMs: Math.round(performance.now() - started),
        steps: { base: "cached", cli: "cached", daemon: "cached", image: "cached" },
      } satisfies BuildAgentImageResult;
    }
    return buildLocked({ docker, tag, cacheDir, dockerDir, packages, rebuildBase: !!opts.rebuildBase, emit, started });
  });
}

async function buildLocked(opts: {
  docker: Docker;
  tag: string;
  cacheDir: string;
  dockerDir: string;
  packages: string[];
  rebuildBase: boolean;
  emit: AgentImageProgressListener;
  started: number;
}): Promise<BuildAgentImageResult> {
  const { docker, tag, cacheDir, dockerDir, packages, emit, started } = opts;
  const previous = await inspectImage(docker, tag).catch(() => null);

  // The base (mostly debootstrap), the CLI download and compiling armoryd are independent: run
  // them together. armoryd is compiled at every build (seconds) into a directory removed after.
  const daemonDir = await fsp.mkdtemp(path.join(os.tmpdir(), "armory-armoryd-"));
  try {
    const [baseResult, cliResult, daemonResult] = await Promise.allSettled([
      ensureBaseImage({ docker, packages, cacheDir, rebuild: opts.rebuildBase, emit }),
      ensureClaudeBinary({ docker, cacheDir, emit }),
      compileArmoryd({ docker, cacheDir, dockerDir, outDir: daemonDir, emit }),
    ]);
    for (const [phase, r] of [["base", baseResult], ["cli", cliResult], ["daemon", daemonResult]] as const) {
      if (r.status === "rejected") {
        if (r.reason instanceof AgentImageBuildError) throw r.reason;
        throw new AgentImageBuildError(phase, engineMessage(r.reason), { cause: r.reason });
      }
    }
    const base = (baseResult as PromiseFulfilledResult<number | "cached">).value;
    const cli = (cliResult as PromiseFulfilledResult<{ file: string; took: number | "cached" }>).value;
    const daemon = (daemonResult as PromiseFulfilledResult<{ file: string; took: number }>).value;
    const imageStarted = performance.now();
    await buildFromDockerfile({ docker, tag, dockerDir, claudeFile: cli.file, daemonFile: daemon.file, emit });
    return await finishBuild({ docker, tag, previous, started, imageStarted, steps: { base, cli: cli.took, daemon: daemon.took }, emit });
  } finally {
    await fsp.rm(daemonDir, { recursive: true, force: true });
  }
}

async function finishBuild(opts: {
  docker: Docker;
  tag: string;
  previous: Docker.ImageInspectInfo | null;
  started: number;
  imageStarted: number;
  steps: Omit<BuildAgentImageResult["steps"], "image">;
  emit: AgentImageProgressListener;
}): Promise<BuildAgentImageResult> {
  const { docker, tag, previous, started, imageStarted, emit } = opts;

  const info = await inspectImage(docker, tag);
  if (!info) throw new AgentImageBuildError("image", `the build finished but ${tag} is not in the engine`);
  // A forced rebuild leaves the old image untagged: remove it unless a container still uses it.
  if (previous && previous.Id !== info.Id) {
    await docker
      .getImage(previous.Id)
      .remove()
      .catch(() => undefined);
  }
  const result: BuildAgentImageResult = {
    tag,
    imageId: info.Id,
    sizeBytes: info.Size,
    durationMs: Math.round(performance.now() - started),
    steps: { ...opts.steps, image: Math.round(performance.now() - imageStarted) },
  };
  emit({ phase: "done", message: `built ${tag} (${(info.Size / 1e6).toFixed(0)} MB)`, percent: 100 });
  return result;
}

// ---- ensure (shared by concurrent callers) ------------------------------------------------------

interface InFlight {
  promise: Promise<string>;
  listeners: Set<AgentImageProgressListener>;
}

// On globalThis: the custom server and Next's bundles load separate copies of this module, and a
// build must still happen once.
const INFLIGHT_KEY = Symbol.for("armory.agentImage.inflight");
type WithInflight = typeof globalThis & { [INFLIGHT_KEY]?: Map<string, InFlight> };
function inflight(): Map<string, InFlight> {
  const g = globalThis as WithInflight;
  return (g[INFLIGHT_KEY] ??= new Map());
}

export interface EnsureAgentImageOptions extends Omit<BuildAgentImageOptions, "rebuildBase" | "skipIfCurrent"> {
  /** Build even when the tag exists (concurrent callers still share one build). */
  force?: boolean;
}

/**
 * Returns the agent image tag, building the image first when the engine does not have it (or has
 * it built from other docker/agent files). Concurrent callers share one build and all receive
 * its progress.
 */
export async function ensureAgentImage(opts: EnsureAgentImageOptions): Promise<string> {
  const tag = opts.tag ?? agentImageTag();
  const map = inflight();
  let job = map.get(tag);
  if (!job) {
    const status = opts.force ? "forced" : await agentImageStatus(opts.docker, { tag, dockerDir: opts.dockerDir });
    if (status === "current") return tag;
    job = map.get(tag); // another caller may have started while we asked the engine
    if (!job && status === "stale") {
      opts.onProgress?.({ phase: "image", message: `${tag} was built from other docker/agent files; rebuilding it` });
    }
  }
  if (!job) {
    const listeners = new Set<AgentImageProgressListener>();
    const created: InFlight = {
      listeners,
      promise: buildAgentImage({
        ...opts,
        tag,
        skipIfCurrent: !opts.force,
        onProgress: (p) => {
          for (const l of listeners) l(p);
        },
      }).then((r) => r.tag),
    };
    job = created;
    map.set(tag, created);
    const forget = () => {
      if (map.get(tag) === created) map.delete(tag);
    };
    created.promise.then(forget, forget);
  }
  const listener = opts.onProgress;
  if (listener) job.listeners.add(listener);
  try {
    return await job.promise;
  } finally {
    if (listener) job.listeners.delete(listener);
  }
}

// ---- progress for people ------------------------------------------------------------------------

/**
 * Turns build progress into a few readable lines ("[ 12.3s] base  40%  Unpacking git",
 * "[ 51.0s] cli  downloaded 120.4 MB"): every phase change and every build step, otherwise at
 * most one line per `intervalMs`. For the agent-image script and the server's first start.
 */
export function agentImageProgressPrinter(
  write: (line: string) => void,
  opts: { intervalMs?: number; startedAt?: number } = {},
): AgentImageProgressListener {
  const startedAt = opts.startedAt ?? performance.now();
  const interval = opts.intervalMs ?? 2000;
  // Throttled per phase: base and cli run at the same time and interleave.
  const lastAt = new Map<string, number>();
  return (p) => {
    const now = performance.now();
    const important = !lastAt.has(p.phase) || p.phase === "done" || /^Step \d+\/\d+/.test(p.message) || p.percent === 100;
    if (!important && now - (lastAt.get(p.phase) ?? 0) < interval) return;
    lastAt.set(p.phase, now);
    const elapsed = `${((now - startedAt) / 1000).toFixed(1)}s`.padStart(7);
    const percent = p.percent === undefined ? "     " : `${String(p.percent).padStart(3)}% `;
    const bytes = p.bytes === undefined ? "" : ` [${(p.bytes / 1e6).toFixed(1)} MB]`;
    const message = p.message.length > 140 ? `${p.message.slice(0, 137)}...` : p.message;
    write(`[${elapsed}] ${p.phase.padEnd(5)} ${percent} ${message}${bytes}`);
  };
}
