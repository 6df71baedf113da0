// The default agent image against the real engine: built (or found) by ensureAgentImage, then run
// with the hardened settings Armory uses. Checks armoryd as the main process (its log lines, idling
// without Armory's URL and token, a fast clean stop with and without an init), the user, working
// directory, tools and the no-phone-home env. armoryd's protocol is tests/docker/armoryd.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AGENT_IMAGE_LABELS,
  AGENT_IMAGE_VERSION,
  CLAUDE_CODE_VERSION,
  agentImageStatus,
  agentImageTag,
  debianMirrorFromHost,
  ensureAgentImage,
} from "@/server/runtime/docker/agent-image";
import { createDockerClient } from "@/server/runtime/docker/client";

const docker = createDockerClient();
const created: Docker.Container[] = [];
let tag = "";

const HARDENED = {
  Init: true,
  NetworkMode: "none",
  CapDrop: ["ALL"],
  SecurityOpt: ["no-new-privileges"],
  ReadonlyRootfs: false,
};

beforeAll(async () => {
  // The first run builds the image (debootstrap + CLI download + build: about a minute).
  tag = await ensureAgentImage({ docker });
}, 300_000);

afterAll(async () => {
  await Promise.all(created.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
});

/** Demultiplexes a non-TTY engine stream; the outputs end when the source ends. */
function demux(stream: NodeJS.ReadableStream): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  const end = () => {
    stdout.end();
    stderr.end();
  };
  stream.on("end", end);
  stream.on("close", end);
  return { stdout, stderr };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += String(chunk);
  return out;
}

interface Running {
  container: Docker.Container;
  /** armoryd's log (the container's stderr), line by line, from its first line. */
  lines: AsyncIterator<string>;
  stdout: Promise<string>;
}

async function runAgent(opts: { init?: boolean; cmd?: string[] } = {}): Promise<Running> {
  const container = await docker.createContainer({
    Image: tag,
    Cmd: opts.cmd,
    Labels: { "dev.armory.test": "agent-image" },
    HostConfig: { ...HARDENED, Init: opts.init ?? true },
  });
  created.push(container);
  await container.start();
  // Logs with follow start at the container's first line and end when it stops.
  const logs = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
  const { stdout, stderr } = demux(logs);
  const lines = readline.createInterface({ input: stderr, crlfDelay: Infinity })[Symbol.asyncIterator]();
  return { container, lines, stdout: readAll(stdout) };
}

async function rest(lines: AsyncIterator<string>): Promise<string[]> {
  const out: string[] = [];
  for (let r = await lines.next(); !r.done; r = await lines.next()) out.push(r.value);
  return out;
}

async function execIn(container: Docker.Container, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const { stdout, stderr } = demux(stream);
  const [out, err] = await Promise.all([readAll(stdout), readAll(stderr)]);
  // The exit code is final once the stream ended; Running can lag by a moment.
  for (let i = 0; i < 1000; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { code: info.ExitCode, stdout: out, stderr: err };
  }
  throw new Error(`exec ${cmd.join(" ")} still reports Running after its output ended`);
}

/** The message of one armoryd log line (after its ISO timestamp). */
function message(line: string | undefined): string {
  expect(line, "a log line").toBeTypeOf("string");
  const m = /^\d{4}-\d\d-\d\dT[\d:.]+Z armoryd: (.*)$/.exec(line as string);
  expect(m, `an armoryd log line: ${line}`).not.toBeNull();
  return m![1]!;
}

const IDLE = /^ARMORY_DAEMON_URL and ARMORY_AGENT_TOKEN not set: not connecting to Armory; idling/;

describe("agent image", () => {
  it("is tagged with its version, labelled, and current with docker/agent", async () => {
    expect(tag).toBe(agentImageTag());
    expect(tag).toBe(`armory-agent:${AGENT_IMAGE_VERSION}`);
    expect(AGENT_IMAGE_VERSION).toMatch(new RegExp(`^${CLAUDE_CODE_VERSION.replace(/\./g, "\\.")}-r\\d+$`));
    const info = await docker.getImage(tag).inspect();
    expect(info.Config.User).toBe("agent");
    expect(info.Config.WorkingDir).toBe("/workspace");
    expect(info.Config.Labels?.[AGENT_IMAGE_LABELS.version]).toBe(AGENT_IMAGE_VERSION);
    expect(info.Config.Labels?.[AGENT_IMAGE_LABELS.claudeCodeVersion]).toBe(CLAUDE_CODE_VERSION);
    expect(await agentImageStatus(docker)).toBe("current");
  });

  describe("a hardened container (Init, no network, no capabilities)", () => {
    let agent: Running;

    beforeAll(async () => {
      agent = await runAgent();
    });

    it("runs armoryd as its main process under the init, idling without Armory's URL and token", async () => {
      expect(message((await agent.lines.next()).value)).toMatch(IDLE);
      const pids = await execIn(agent.container, ["pgrep", "-x", "armoryd"]);
      expect(pids.code).toBe(0);
      const pid = Number(pids.stdout.trim());
      expect(pid).toBeGreaterThan(1); // docker-init is PID 1
      const status = await execIn(agent.container, ["cat", `/proc/${pid}/status`]);
      expect(status.stdout).toMatch(/^Uid:\s+1000\s/m);
      // Nothing of the old supervisor is left in the image.
      expect((await execIn(agent.container, ["sh", "-c", "command -v armory-supervisor || echo none"])).stdout.trim()).toBe("none");
    });

    it("runs execs as agent (uid 1000) in /workspace", async () => {
      expect(await execIn(agent.container, ["id", "-u"])).toMatchObject({ code: 0, stdout: "1000\n" });
      expect(await execIn(agent.container, ["id", "-un"])).toMatchObject({ code: 0, stdout: "agent\n" });
      expect(await execIn(agent.container, ["pwd"])).toMatchObject({ code: 0, stdout: "/workspace\n" });
      // The writable paths really are writable by the agent user.
      const touch = await execIn(agent.container, ["sh", "-c", "touch /workspace/.w /home/agent/.claude/.w && echo ok"]);
      expect(touch).toMatchObject({ code: 0, stdout: "ok\n" });
    });

    it("has the pinned Claude Code CLI, working with no network", async () => {
      const r = await execIn(agent.container, ["claude", "--version"]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split(/\s+/)[0]).toBe(CLAUDE_CODE_VERSION);
    });

    it("has git and bash", async () => {
      const git = await execIn(agent.container, ["git", "--version"]);
      expect(git.code).toBe(0);
      expect(git.stdout).toMatch(/^git version \d+\.\d+/);
      const bash = await execIn(agent.container, ["bash", "--version"]);
      expect(bash.code).toBe(0);
      expect(bash.stdout).toMatch(/GNU bash, version 5\./);
    });

    it("sets the env that stops the CLI calling home", async () => {
      const { code, stdout } = await execIn(agent.container, ["env"]);
      expect(code).toBe(0);
      const env = Object.fromEntries(stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      expect(env).toMatchObject({
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
      });
    });

    it("stops on SIGTERM at once, with exit code 0 and a stopping line", async () => {
      const started = performance.now();
      await agent.container.stop({ t: 10 });
      const tookMs = performance.now() - started;
      // Handled, not killed: the engine would SIGKILL after the 10 s grace (exit 137); the bound
      // leaves a loaded CI machine room and still tells the two apart.
      expect(tookMs).toBeLessThan(8000);
      const after = await rest(agent.lines); // ends with the container
      expect(message(after.at(-1))).toBe("SIGTERM: stopping");
      const info = await agent.container.inspect();
      expect(info.State.Running).toBe(false);
      expect(info.State.ExitCode).toBe(0);
      expect(await agent.stdout).toBe("");
    });
  });

  it("works as PID 1 without an init: it idles, then stops fast and clean", async () => {
    const agent = await runAgent({ init: false });
    expect(message((await agent.lines.next()).value)).toMatch(IDLE);
    expect((await execIn(agent.container, ["pgrep", "-x", "armoryd"])).stdout.trim()).toBe("1");
    const started = performance.now();
    await agent.container.stop({ t: 10 });
    expect(performance.now() - started).toBeLessThan(8000); // SIGKILL would come at 10 s (see above)
    expect(message((await rest(agent.lines)).at(-1))).toBe("SIGTERM: stopping");
    expect((await agent.container.inspect()).State.ExitCode).toBe(0);
  });
});

describe("debianMirrorFromHost", () => {
  it("reads one-line and deb822 sources, skipping security and disabled entries", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-apt-"));
    try {
      fs.mkdirSync(path.join(root, "sources.list.d"));
      fs.writeFileSync(
        path.join(root, "sources.list.d", "debian.sources"),
        [
          "Types: deb",
          "URIs: http://mirror.invalid/debian-security",
          "Suites: bookworm-security",
          "Components: main",
          "",
          "Types: deb",
          "URIs: http://disabled.invalid/debian",
          "Suites: bookworm",
          "Enabled: no",
          "",
          "Types: deb deb-src",
          "URIs: http://mirror.invalid/debian/",
          "Suites: bookworm bookworm-updates",
          "Components: main",
          "",
        ].join("\n"),
      );
      const saved = process.env.ARMORY_DEBIAN_MIRROR;
      delete process.env.ARMORY_DEBIAN_MIRROR;
      try {
        expect(debianMirrorFromHost(root)).toBe("http://mirror.invalid/debian");
        fs.writeFileSync(path.join(root, "sources.list"), "# comment\ndeb [arch=amd64] http://old.invalid/debian bookworm main\n");
        expect(debianMirrorFromHost(root)).toBe("http://old.invalid/debian");
        fs.rmSync(path.join(root, "sources.list"));
        fs.rmSync(path.join(root, "sources.list.d", "debian.sources"));
        expect(debianMirrorFromHost(root)).toBeNull();
      } finally {
        if (saved !== undefined) process.env.ARMORY_DEBIAN_MIRROR = saved;
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
