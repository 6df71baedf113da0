// `armoryd connect <host> <port>`: a byte pipe between stdin/stdout and host:port, through the
// egress proxy in $HTTPS_PROXY (an HTTP CONNECT tunnel with its Proxy-Authorization), for ssh's
// ProxyCommand. Agents have no direct route out: ssh to a git server goes the way https does, so
// the project's egress allowlist applies to it too. Without a proxy (or for a NO_PROXY host) it
// connects directly. A refusal is one line on stderr with the proxy's status and reason.
import net from "node:net";
import type { Readable, Writable } from "node:stream";

const MAX_RESPONSE_HEAD = 16 * 1024;

export class ConnectError extends Error {}

/** The proxy URL for host (HTTPS_PROXY, https_proxy, ALL_PROXY), or null for a direct connection. */
export function proxyFor(host: string, env: Record<string, string | undefined>): URL | null {
  const raw = env.HTTPS_PROXY || env.https_proxy || env.ALL_PROXY || env.all_proxy;
  if (!raw) return null;
  const noProxy = (env.NO_PROXY || env.no_proxy || "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const h = host.toLowerCase();
  if (noProxy.some((n) => n === "*" || h === n.replace(/^\./, "") || h.endsWith(n.startsWith(".") ? n : `.${n}`))) return null;
  try {
    return new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    throw new ConnectError(`the proxy URL in HTTPS_PROXY is not a URL`);
  }
}

function openSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err) => reject(new ConnectError(`cannot connect to ${host}:${port}: ${err.message}`)));
  });
}

/** A socket to host:port, tunnelled through the proxy when there is one. */
export async function openTunnel(host: string, port: number, env: Record<string, string | undefined>): Promise<{ socket: net.Socket; rest: Buffer }> {
  const proxy = proxyFor(host, env);
  if (!proxy) return { socket: await openSocket(host, port), rest: Buffer.alloc(0) };
  const socket = await openSocket(proxy.hostname.replace(/^\[|\]$/g, ""), Number(proxy.port) || 80);
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const auth = proxy.username || proxy.password ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")}\r\n` : "";
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
  const head = await new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.indexOf("\r\n\r\n") >= 0) done(null);
      else if (buf.length > MAX_RESPONSE_HEAD) done(new ConnectError("the egress proxy sent an over-long answer"));
    };
    const onEnd = () => done(new ConnectError(`the egress proxy closed the connection to ${target}${buf.length ? `: ${firstLine(buf)}` : ""}`));
    const onError = (err: Error) => done(new ConnectError(`the egress proxy connection failed: ${err.message}`));
    function done(err: Error | null) {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      if (err) reject(err);
      else resolve(buf);
    }
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
  }).catch((err: unknown) => {
    socket.destroy();
    throw err;
  });
  const end = head.indexOf("\r\n\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(firstLine(head));
  if (!status || !status[1]!.startsWith("2")) {
    socket.destroy();
    const body = head.subarray(end + 4).toString("utf8").trim().split("\n")[0] ?? "";
    throw new ConnectError(`the egress proxy refused ${target}: ${firstLine(head)}${body ? ` (${body.slice(0, 300)})` : ""}`);
  }
  socket.pause();
  return { socket, rest: head.subarray(end + 4) };
}

function firstLine(buf: Buffer): string {
  return buf.toString("latin1").split("\r\n")[0]!.slice(0, 200);
}

/** Pipes input to host:port and its answers to output until either side ends; resolves with the exit code. */
export async function connectMain(argv: string[], io: { input: Readable; output: Writable; error: Writable; env: Record<string, string | undefined> }): Promise<number> {
  const [host, portText] = argv;
  const port = Number(portText);
  if (!host || host.startsWith("-") || !Number.isInteger(port) || port < 1 || port > 65535) {
    io.error.write("usage: armoryd connect <host> <port>\n");
    return 2;
  }
  let tunnel: { socket: net.Socket; rest: Buffer };
  try {
    tunnel = await openTunnel(host, port, io.env);
  } catch (err) {
    io.error.write(`armoryd connect: ${(err as Error).message}\n`);
    return 1;
  }
  const { socket, rest } = tunnel;
  if (rest.length) io.output.write(rest);
  return new Promise<number>((resolve) => {
    // ssh went away (EPIPE on our stdout, or its end of stdin): the tunnel closes with it.
    io.output.once("error", () => socket.destroy());
    io.input.once("error", () => socket.destroy());
    socket.pipe(io.output, { end: false });
    io.input.pipe(socket);
    socket.once("error", (err) => {
      io.error.write(`armoryd connect: ${err.message}\n`);
      resolve(1);
    });
    socket.once("close", () => resolve(0));
    socket.resume();
  });
}
