// Starting Armory with a bad configuration or an unreachable database fails fast with a clear
// message and no stack trace; a locked embedded database is refused, not shared.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { DatabaseUnavailableError, openDatabase } from "@/server/db";

function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
      env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), NODE_ENV: "production", LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stderr, stdout }));
  });
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const STACK_FRAME = /^\s+at .+[:(]/m;

describe("startup failures", () => {
  it("refuses a bad PORT with a message naming it", async () => {
    const r = await runServer({ PORT: "not-a-port" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PORT: must be a number (got "not-a-port")');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it("reports an unreachable database clearly, without credentials or a stack", async () => {
    const port = await closedPort();
    const r = await runServer({ DATABASE_URL: `postgresql://armory:s3cret-pw@127.0.0.1:${port}/armory` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the database (PostgreSQL at 127.0.0.1:${port}/armory): connection refused`);
    expect(r.stderr + r.stdout).not.toContain("s3cret-pw");
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it("refuses to open an embedded database another live process holds", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-lock-"));
    // pid 1 is always alive: pretend it holds the directory.
    fs.writeFileSync(path.join(dir, "armory.lock"), "1");
    const err = await openDatabase({ pgliteDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as Error).message).toMatch(/in use by another Armory process \(pid 1\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("takes over a stale lock left by a process that is gone", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-lock-"));
    fs.cpSync(inject("pgliteTemplateDir"), dir, { recursive: true }); // a database, without an initdb here
    fs.writeFileSync(path.join(dir, "armory.lock"), "999999999");
    const db = await openDatabase({ pgliteDir: dir });
    expect(fs.readFileSync(path.join(dir, "armory.lock"), "utf8")).toBe(String(process.pid));
    await db.close();
    expect(fs.existsSync(path.join(dir, "armory.lock"))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
