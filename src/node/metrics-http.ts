// The operator's pages of a running service, over HTTP: what an operator of
// the modelled systems read with netstat -m, vmstat -z, sysctl -a / no -a and
// a leak hunt, and the tunable writes of sysctl name=value / no -o / no -d.
//
//   GET  /metrics                 Prometheus text (the pool's own registry; the adapters' counters too)
//   GET  /netstat[?format=F]      netstat -m in a dialect (freebsd, freebsd6, freebsd4, aix, rtems, json)
//   GET  /vmstat[?format=json]    vmstat -z and the type census (json: zones and census as data)
//   GET  /stats                   the snapshot every report is formatted from, pool.stats() (JSON)
//   GET  /tunables                every tunable with its value, default, range and rules (JSON)
//   GET  /tunables/NAME           one tunable (JSON); 404 for a name the profile does not have
//   POST /tunables/NAME           body: the new value; sysctl NAME=value (JSON: name, old, new)
//   POST /tunables/NAME/reset     no -d NAME: back to its default (JSON: name, old, new)
//   GET  /leaks                   mbufs in use by owner, oldest first, and the leak detector's verdicts (JSON)
//   GET  /series                  the usage time series (JSON), if a recorder was given
//
// Reads are open: the server binds the loopback interface unless told
// otherwise. Writes need a key: `Authorization: Bearer TOKEN`, compared in
// constant time, with the token from the `token` option or the
// MBUFPOOL_OPERATOR_TOKEN environment variable; with no token configured,
// writes are off (403). A server on an address other than loopback is
// refused at start unless a token is configured. Request bodies and URLs are
// bounded and every request has a deadline, so a slow or malformed client
// cannot hold the service. A write goes through pool.sysctl's own checks, is
// a `tunable` event on the pool and a line to its logger, with who wrote.
//
// /stats is what a remote reader formats with the same formatters the pool
// uses (the CLI's --url), so a report read over HTTP is the report the pool
// prints. A name the profile does not know is 404, a value its rules refuse is
// 400 with the ETUNABLE message: a client can tell a mistake from a refusal.

import http from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import type { LeakDetector } from "../leak/detector.js";
import type { UsageRecorder } from "../sampling/series.js";
import { MbufError, checkInt } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";

/** Options of serveMetrics. */
export interface MetricsServerOptions {
  /** Port (0: any free port; the default). */
  port?: number;
  /** Address to bind ("127.0.0.1"). Another address needs a token. */
  host?: string;
  /** The key tunable writes must present (Bearer); MBUFPOOL_OPERATOR_TOKEN by default; none: writes are off. */
  token?: string;
  /** A running leak detector whose verdicts /leaks shows. */
  leakDetector?: LeakDetector;
  /** A usage recorder /series serves. */
  recorder?: UsageRecorder;
  /** Most bytes of a request body (4096). */
  maxBodyBytes?: number;
  /** Milliseconds a request may take, headers and body (5000). */
  requestTimeoutMs?: number;
}

const OPTION_KEYS = optionKeys<MetricsServerOptions>({
  port: 1, host: 1, token: 1, leakDetector: 1, recorder: 1, maxBodyBytes: 1, requestTimeoutMs: 1,
});
/** Longest request target accepted (path and query). */
const MAX_URL = 2048;

/** A running operator server. */
export interface MetricsServer {
  readonly server: http.Server;
  /** The base URL, e.g. http://127.0.0.1:9100. */
  readonly url: string;
  /** True if tunable writes are on (a token is configured). */
  readonly writable: boolean;
  close(): Promise<void>;
}

/** What a handler needs besides the pool. */
export interface OperatorContext {
  token?: string;
  leakDetector?: LeakDetector;
  recorder?: UsageRecorder;
  maxBodyBytes?: number;
}

/** Every key OperatorContext has. */
const CONTEXT_KEYS = optionKeys<OperatorContext>({ token: 1, leakDetector: 1, recorder: 1, maxBodyBytes: 1 });

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Answers one request (see the table at the top of this file).
 * @throws (rejects) MbufError EINVAL for an unknown key in `ctx`, before anything is answered.
 */
export async function handleMetrics(pool: Pool, req: http.IncomingMessage, res: http.ServerResponse,
  ctx: OperatorContext = {}): Promise<void> {
  checkOptions(ctx, "handleMetrics context", CONTEXT_KEYS);
  const send = (code: number, type: string, body: string): void => {
    if (res.headersSent) return;
    res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  const json = (code: number, v: unknown): void => send(code, "application/json", `${JSON.stringify(v, null, 2)}\n`);
  try {
    if ((req.url ?? "/").length > MAX_URL) throw new HttpError(414, `request target longer than ${MAX_URL} bytes`);
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter(Boolean).map(decodePart);
    const read = req.method === "GET" || req.method === "HEAD";
    if (req.method === "POST" && parts[0] === "tunables" && parts.length >= 2) {
      const who = authorize(req, ctx.token);
      const body = await readBody(req, ctx.maxBodyBytes ?? 4096);
      const name = knownTunable(pool, parts[1]);
      if (parts.length === 3 && parts[2] === "reset") return json(200, pool.resetTunable(name, who));
      if (parts.length !== 2) throw new HttpError(404, "POST /tunables/NAME or /tunables/NAME/reset");
      const text = body.trim();
      if (!/^-?\d+$/.test(text)) throw new HttpError(400, `the body must be the new value, an integer; got ${JSON.stringify(text.slice(0, 40))}`);
      return json(200, pool.sysctl(name, Number(text), who));
    }
    if (!read) throw new HttpError(405, "GET, or POST to /tunables/NAME");
    switch (parts[0]) {
      case "metrics":
        return send(200, pool.metricsRegistry.contentType, await pool.metrics());
      case "netstat": {
        const format = url.searchParams.get("format") ?? undefined;
        const text = pool.netstat(format === undefined ? {} : { format });
        return send(200, format === "json" ? "application/json" : "text/plain; charset=utf-8", text.endsWith("\n") ? text : `${text}\n`);
      }
      case "stats":
        return json(200, pool.stats());
      case "vmstat":
        if (url.searchParams.get("format") === "json") return json(200, pool.zones());
        return send(200, "text/plain; charset=utf-8", `${pool.vmstatZ()}\n`);
      case "tunables":
        if (parts.length === 1) return json(200, { profile: pool.profile.name, tunables: pool.listTunables() });
        return json(200, pool.tunable(knownTunable(pool, parts[1])));
      case "leaks":
        return json(200, {
          outstanding: pool.outstanding({ perGroup: checkInt(Number(url.searchParams.get("perGroup") ?? 8), "perGroup", 0, 1 << 20) }),
          verdicts: ctx.leakDetector?.verdicts ?? null,
        });
      case "series":
        if (!ctx.recorder) throw new HttpError(404, "no usage recorder: serveMetrics(pool, { recorder })");
        return json(200, ctx.recorder.toJSON());
      default:
        throw new HttpError(404, "not found: try /metrics, /netstat, /vmstat, /stats, /tunables, /leaks or /series");
    }
  } catch (e) {
    if (e instanceof HttpError) {
      if (e.status === 413) res.setHeader("connection", "close");
      return send(e.status, "text/plain; charset=utf-8", `${e.message}\n`);
    }
    if (e instanceof MbufError) return send(e.code === "ETUNABLE" || e.code === "EINVAL" ? 400 : 409, "text/plain; charset=utf-8", `${e.message}\n`);
    return send(500, "text/plain; charset=utf-8", `${(e as Error).message}\n`);
  }
}

/** One path segment, decoded; a malformed escape (`%E0`) is 400, not a server error. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `malformed escape in the path: ${JSON.stringify(part.slice(0, 40))}`);
  }
}

/** `name` if the pool's profile has that tunable (or alias); else 404 with the pool's own message. */
function knownTunable(pool: Pool, name: string): string {
  try {
    pool.tunable(name);
  } catch (e) {
    if (e instanceof MbufError) throw new HttpError(404, e.message);
    throw e;
  }
  return name;
}

/** Who is writing, if the request carries the token; else 401 (no key) or 403 (wrong key, or writes off). */
function authorize(req: http.IncomingMessage, token: string | undefined): string {
  if (!token) throw new HttpError(403, "tunable writes are off: start the server with a token (option token or MBUFPOOL_OPERATOR_TOKEN)");
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (given === undefined) throw new HttpError(401, "a tunable write needs Authorization: Bearer TOKEN");
  // Equal-length digests, so the comparison takes the same time whatever was sent.
  const digest = (s: string): Buffer => createHash("sha256").update(s).digest();
  if (!timingSafeEqual(digest(given), digest(token))) throw new HttpError(403, "wrong token");
  return `operator ${req.socket.remoteAddress ?? "?"}`;
}

/** The request body as text, at most `max` bytes (413 beyond). */
function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Answer at once and keep nothing: the rest is read and dropped, and the connection closes after the answer.
        reject(new HttpError(413, `a request body may hold at most ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** True for an address only this machine reaches. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

/**
 * Serves the operator's pages for `pool` over HTTP (loopback by default).
 * @throws MbufError EINVAL for a bad port or option, or an address other than loopback without a token.
 */
export function serveMetrics(pool: Pool, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  checkOptions(options, "serveMetrics options", OPTION_KEYS);
  const port = checkInt(options.port ?? 0, "port", 0, 65535);
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string") throw new MbufError("EINVAL", "host must be an address (a string)");
  // An empty token (option or variable) turns writes off, as no token does.
  const token = (options.token ?? process.env.MBUFPOOL_OPERATOR_TOKEN) || undefined;
  if (token !== undefined && (typeof token !== "string" || token.length < 8)) {
    throw new MbufError("EINVAL", "token must be a string of at least 8 characters");
  }
  if (!isLoopback(host) && !token) {
    throw new MbufError("EINVAL", `serveMetrics: binding ${host} (not loopback) needs a token, or anyone who reaches it may read the pool`);
  }
  const maxBodyBytes = checkInt(options.maxBodyBytes ?? 4096, "maxBodyBytes", 1, 1 << 20);
  const timeout = checkInt(options.requestTimeoutMs ?? 5000, "requestTimeoutMs", 1, 600_000);
  const ctx: OperatorContext = { token, leakDetector: options.leakDetector, recorder: options.recorder, maxBodyBytes };
  const server = http.createServer({ requestTimeout: timeout, headersTimeout: timeout, maxHeaderSize: 8192 },
    (req, res) => void handleMetrics(pool, req, res, ctx));
  server.keepAliveTimeout = Math.min(timeout, 5000);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      const h = a.family === "IPv6" ? `[${a.address}]` : a.address;
      resolve({
        server, url: `http://${h}:${a.port}`, writable: !!token,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
