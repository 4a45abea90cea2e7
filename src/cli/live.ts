// The client side of a running service's operator pages (serveMetrics in
// mbufpool/node): what `--url` commands read and write. It fetches the data
// the pool's reports are made from (/stats, /tunables, /leaks, /series) so the
// command formats them with the formatters the pool itself uses, and it sorts
// every answer into the CLI's exit statuses:
//
//   a name the service does not know (404)            bad usage, 2, as in-process
//   a write its rules refuse (400, ETUNABLE)          a refusal, 1, as in-process
//   no token, a wrong one, writes off (401, 403)      EX_NOPERM, 77
//   unreachable, no answer in time, not an mbufpool
//   operator endpoint, a server error (5xx)           EX_UNAVAILABLE, 69
//
// The token goes only on writes, never in a URL; reads carry nothing secret.

import { isIP } from "node:net";
import type { PoolStats } from "../stats/snapshot.js";
import type { TunableInfo, TunableChange } from "../tunables/rules.js";
import type { OutstandingReport } from "../leak/outstanding.js";
import type { LeakVerdict } from "../leak/detector.js";
import type { SeriesJSON } from "../sampling/series.js";
import { OpError, BAD_USAGE, REFUSED, type TunableTarget } from "./tunable-ops.js";

/** Exit status when the service refuses the key (sysexits' EX_NOPERM). */
export const NO_PERMISSION = 77;
/** Exit status when the service cannot be reached or does not answer as one (sysexits' EX_UNAVAILABLE). */
export const UNAVAILABLE = 69;

/** The service could not be used at all: one line, exit status 69. */
export class LiveError extends Error {
  override readonly name = "LiveError";
  readonly exitCode = UNAVAILABLE;
}

/** How to reach a service. */
export interface LiveTarget {
  /** Base URL of the operator pages, e.g. http://127.0.0.1:9107 (a path prefix is kept). */
  url: string;
  /** The write key, if any. */
  token?: string;
  /** Milliseconds each request may take, connection to last byte. */
  timeoutMs: number;
}

/** Most bytes of an answer the client reads (a /leaks report of a big pool fits many times over). */
const MAX_ANSWER = 16 << 20;

/** An answer of the service: its status and its body as text. */
interface Answer { status: number; text: string }

/** A running service's operator pages. */
export class LiveService {
  private readonly base: URL;

  constructor(readonly target: LiveTarget) {
    this.base = new URL(target.url.endsWith("/") ? target.url : `${target.url}/`);
  }

  /** One request; a failure to reach the service, or no answer in time, is a LiveError. */
  private async request(path: string, init: { method?: string; body?: string; auth?: boolean } = {}): Promise<Answer> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { accept: "application/json" };
    if (init.auth && this.target.token !== undefined) headers.authorization = `Bearer ${this.target.token}`;
    const where = `${url.origin}${url.pathname}`;
    try {
      const r = await fetch(url, {
        method: init.method ?? "GET", body: init.body, headers, redirect: "error",
        signal: AbortSignal.timeout(this.target.timeoutMs),
      });
      const text = await readCapped(r, where);
      if (r.status >= 500) throw new LiveError(`${where}: the service failed (${r.status}): ${firstLine(text)}`);
      return { status: r.status, text };
    } catch (e) {
      if (e instanceof LiveError) throw e;
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === "TimeoutError" || err.name === "AbortError") {
        throw new LiveError(`${where}: no answer within ${this.target.timeoutMs} ms (--timeout)`);
      }
      throw new LiveError(`cannot reach ${where}: ${err.cause?.message ?? err.cause?.code ?? err.message}`);
    }
  }

  /** GET `path` as JSON; anything but 200 and a JSON body means this is not an operator endpoint. */
  private async getJSON(path: string): Promise<unknown> {
    const a = await this.request(path);
    if (a.status !== 200) throw new LiveError(`${this.where(path)}: ${a.status} ${firstLine(a.text)} (is this an mbufpool operator endpoint?)`);
    return parseJSON(a.text, this.where(path));
  }

  private where(path: string): string {
    const u = new URL(path, this.base);
    return `${u.origin}${u.pathname}`;
  }

  /** The pool's snapshot now (GET /stats). */
  async stats(): Promise<PoolStats> {
    const s = await this.getJSON("stats") as PoolStats;
    if (typeof s?.profile !== "string" || typeof s.mbufs?.limit !== "number" || !Array.isArray(s.census)) {
      throw new LiveError(`${this.where("stats")}: not a pool snapshot (is this an mbufpool operator endpoint?)`);
    }
    return s;
  }

  /** Outstanding mbufs by owner, and the service's leak verdicts (null: it runs no leak detector). */
  async leaks(perGroup: number): Promise<{ outstanding: OutstandingReport; verdicts: LeakVerdict[] | null }> {
    const r = await this.getJSON(`leaks?perGroup=${perGroup}`) as { outstanding: OutstandingReport; verdicts: LeakVerdict[] | null };
    if (typeof r?.outstanding?.total !== "number" || !Array.isArray(r.outstanding.groups)) {
      throw new LiveError(`${this.where("leaks")}: not an outstanding report (is this an mbufpool operator endpoint?)`);
    }
    return r;
  }

  /** The service's own usage series (GET /series); a LiveError if it keeps none. */
  async series(): Promise<SeriesJSON> {
    const a = await this.request("series");
    if (a.status === 404) throw new LiveError(`${this.where("series")}: ${firstLine(a.text)} (without --series, watch samples /stats itself)`);
    if (a.status !== 200) throw new LiveError(`${this.where("series")}: ${a.status} ${firstLine(a.text)}`);
    const d = parseJSON(a.text, this.where("series")) as SeriesJSON;
    if (!Array.isArray(d?.samples)) throw new LiveError(`${this.where("series")}: not a usage series`);
    return d;
  }

  /** The service's tunables as a TunableTarget: sysctl and no run the same code on it as on a local pool. */
  tunables(): TunableTarget {
    const name = (n: string): string => encodeURIComponent(n);
    return {
      list: async () => {
        const d = await this.getJSON("tunables") as { tunables: TunableInfo[] };
        if (!Array.isArray(d?.tunables)) throw new LiveError(`${this.where("tunables")}: not a tunables list`);
        return d.tunables;
      },
      info: async (n) => this.tunableAnswer(await this.request(`tunables/${name(n)}`), "tunables") as Promise<TunableInfo>,
      write: async (n, value) => this.tunableAnswer(await this.request(`tunables/${name(n)}`, { method: "POST", body: String(value), auth: true }), "write") as Promise<TunableChange>,
      reset: async (n) => this.tunableAnswer(await this.request(`tunables/${name(n)}/reset`, { method: "POST", body: "", auth: true }), "write") as Promise<TunableChange>,
      close: () => undefined,
    };
  }

  /** A tunable answer as data, or the OpError a local pool would have thrown for the same mistake. */
  private async tunableAnswer(a: Answer, what: "tunables" | "write"): Promise<unknown> {
    const message = a.text.trim();
    if (a.status === 200) return parseJSON(a.text, this.where("tunables"));
    if (a.status === 404) throw new OpError(message, BAD_USAGE);
    if (a.status === 401 || a.status === 403) throw new OpError(message, NO_PERMISSION);
    if (a.status === 400 && what === "write") throw new OpError(message, REFUSED);
    throw new LiveError(`${this.where("tunables")}: ${a.status} ${firstLine(a.text)}`);
  }
}

/** The body of `r` as text, at most MAX_ANSWER bytes (a LiveError beyond, and the rest is not read). */
async function readCapped(r: Response, where: string): Promise<string> {
  const tooLarge = (): LiveError => new LiveError(`${where}: the answer is larger than ${MAX_ANSWER} bytes`);
  if (Number(r.headers.get("content-length") ?? 0) > MAX_ANSWER) throw tooLarge();
  const reader = r.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const firstLine = (text: string): string => text.trim().split("\n")[0].slice(0, 200);

function parseJSON(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LiveError(`${where}: the answer is not JSON (is this an mbufpool operator endpoint?)`);
  }
}

/** True if a token sent to `url` would cross a network in clear (http to an address other than loopback). */
export function tokenInClear(url: string): boolean {
  const u = new URL(url);
  if (u.protocol !== "http:") return false;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return !(host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127.")));
}
