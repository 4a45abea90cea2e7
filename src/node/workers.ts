// A TCP service on worker threads over one shared pool. The main thread
// creates the pool (Pool.create({ shared: true })) and starts N workers with
// startWorkers; each worker joins with joinWorkers, which attaches it to the
// pool, and serves one MbufServer on the service's port. Every worker listens
// with Node's reusePort (SO_REUSEPORT), so the kernel spreads the accepted
// connections across the workers' listening sockets; no thread hands a
// connection to another. The pool is the service's: one memory bound, one
// netstat -m, one audit and one leak detector, read from any thread.
//
// Start. Worker 0 listens first (port 0 picks the port), then each of the
// others on that port, one at a time, so startWorkers resolves only when every
// worker listens, and rejects (every started worker stopped) with the first
// failure. Worker i stamps what it allocates with owner tags of its own
// range, from (i + 1) << 24 (its connections: that base + n), so outstanding()
// and the leak detector in the main thread tell the workers apart.
//
// Close. The main thread asks each worker to close; the worker closes its
// server (dropping its connections, whose buffers go back to the pool), then
// its Pool (its cache and thread slot go back), and says so; only then is it
// terminated, which is safe because it holds neither the lock nor a buffer.
// A worker that exits unasked (it crashed, or was terminated) is reaped: the
// pool gets its caches, its thread slot and every buffer its owner range
// still holds back (pool.reapThread), and the service emits "exit" with what
// came back.

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { startWorker } from "../worker-flags.js";
import { EventEmitter, once } from "node:events";
import type { AddressInfo } from "node:net";
import { Pool } from "../pool.js";
import type { AttachOptions, ShareHandle } from "../pool.js";
import type { ReapReport } from "../pool/threads.js";
import { ATTACH_OPTION_KEYS } from "../pool/options.js";
import { MbufError, checkInt, describeValue } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import { createServer, type MbufServer, type ConnectionListener } from "./tcp-server.js";
import type { TcpServerOptions } from "./tcp-options.js";
import { reusePortSupported } from "./tcp-options.js";

/** The key of workerData that carries what joinWorkers needs. */
const KEY = "mbufpool.workers";
/** Most workers: a shared pool serves 32 threads, and the main thread is one. */
export const WORKERS_MAX = 31;

export interface StartWorkersOptions {
  /** Worker threads (1 to 31); 2 by default. */
  workers?: number;
  /** The service's port; 0 (the default): the system chooses, and every worker shares it. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
  /** Anything structured-cloneable, given to every worker as `member.data`. */
  data?: unknown;
}
const START_KEYS = optionKeys<StartWorkersOptions>({ workers: 1, port: 1, host: 1, data: 1 });

/** What a worker finds in workerData[KEY]. */
interface Join { handle: ShareHandle; index: number; count: number; port: number; host: string; data: unknown }

/** What a worker tells the main thread. */
type Report = { [KEY]: "listening"; port: number } | { [KEY]: "failed"; code: string; mbuf: boolean; message: string } | { [KEY]: "closed" };

/** The owner tags worker `index` stamps: [ownerRange(index).from, .to). */
export function ownerRange(index: number): { from: number; to: number } {
  return { from: (index + 1) * 2 ** 24, to: (index + 2) * 2 ** 24 };
}

/**
 * The main thread's view of the service. Events: "exit" (index, exitCode, reap) when a worker
 * exits before close() asked it to; `reap` is what pool.reapThread gave back (null if the
 * worker had closed its pool, or had not attached yet). "error" if it could not be reaped
 * (it died holding the pool lock).
 */
export class WorkerService extends EventEmitter {
  private closing: Promise<void> | null = null;
  private readonly ids: number[];
  /** @internal */
  constructor(readonly pool: Pool, readonly port: number, readonly host: string, readonly workers: readonly Worker[]) {
    super();
    this.ids = workers.map((w) => w.threadId); // -1 once a worker exits: kept to reap it
    workers.forEach((w, i) => {
      const id = this.ids[i];
      w.on("exit", (code) => {
        if (this.closing !== null) return;
        let r: ReapReport | null = null, failed: unknown = null;
        try {
          r = reap(pool, id, i);
        } catch (e) {
          failed = e; // it died holding the pool lock: the service cannot go on
        }
        this.emit("exit", i, code, r);
        if (failed !== null) this.emit("error", failed);
      });
    });
  }

  /** Closes every worker's server and pool, then ends the workers. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.workers.map((w, i) => stopWorker(this.pool, w, i, this.ids[i]))).then(() => undefined);
    return this.closing;
  }
}

/** Reaps worker `index`'s thread and what its owner range holds; null if it holds no slot. */
function reap(pool: Pool, id: number, index: number): ReapReport | null {
  if (pool.isClosed || !pool.threads().some((t) => t.threadId === id)) return null;
  return pool.reapThread(id, { owners: ownerRange(index) });
}

/** Whether `msg` is one of this module's messages (a report, or the main thread's close). */
const isOurs = (msg: unknown): msg is Record<typeof KEY, string> => typeof msg === "object" && msg !== null && KEY in msg;
/** Whether `msg` is a worker's report. */
const isReport = (msg: unknown): msg is Report => isOurs(msg);

/**
 * Asks worker `index` to close, waits for it to say so (or to exit), then terminates it; if it
 * exited without closing its Pool (it threw at start), reaps it.
 */
async function stopWorker(pool: Pool, w: Worker, index: number, id: number): Promise<void> {
  if (w.threadId !== -1) await askToClose(w);
  reap(pool, id, index);
}

/** Asks `w` to close, waits for it to say so (or to exit), then terminates it. */
async function askToClose(w: Worker): Promise<void> {
  const exited = once(w, "exit");
  const closed = new Promise<void>((resolve) => {
    const on = (msg: unknown): void => {
      if (isReport(msg) && msg[KEY] === "closed") { w.off("message", on); resolve(); }
    };
    w.on("message", on);
  });
  w.postMessage({ [KEY]: "close" });
  await Promise.race([closed, exited]);
  await w.terminate();
}

/**
 * Starts `options.workers` worker threads running `module`, each of which calls joinWorkers()
 * and serves on the one port.
 * @param pool a shared pool (Pool.create({ shared: true })); it stays this thread's to read.
 * @param module the worker's script: a path or a file: URL, as new Worker takes.
 * @returns the service once every worker listens.
 * @throws MbufError ESTATE if the pool is not shared, or this Node has no reusePort (Node 22.12
 *   or 23.1 and later); EINVAL for a bad option. Rejects with a worker's failure (its listen
 *   error's code, EADDRINUSE for instance) after stopping every worker it started.
 */
export async function startWorkers(pool: Pool, module: string | URL, options: StartWorkersOptions = {}): Promise<WorkerService> {
  checkOptions(options, "startWorkers options", START_KEYS);
  if (!(pool instanceof Pool)) throw new MbufError("EINVAL", `startWorkers needs a Pool, got ${describeValue(pool)}`);
  if (typeof module !== "string" && !(module instanceof URL)) {
    throw new MbufError("EINVAL", `startWorkers: the worker module is a path or a URL, got ${describeValue(module)}`);
  }
  const count = checkInt(options.workers ?? 2, "startWorkers: workers", 1, WORKERS_MAX);
  let port = checkInt(options.port ?? 0, "startWorkers: port", 0, 65535);
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string") throw new MbufError("EINVAL", `startWorkers: host must be an address (a string), got ${describeValue(host)}`);
  const handle = pool.shareHandle(); // ESTATE unless shared, ECLOSED after close
  if (!reusePortSupported()) {
    throw new MbufError("ESTATE", `startWorkers: the workers share a port with reusePort, which Node ${process.versions.node} lacks (Node 22.12 or 23.1 and later have it)`);
  }
  const workers: Worker[] = [], ids: number[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const join: Join = { handle, index, count, port, host, data: options.data };
      const w = startWorker(module, { workerData: { [KEY]: join } });
      workers.push(w);
      ids.push(w.threadId);
      port = await listening(w, index);
    }
  } catch (e) {
    await Promise.all(workers.map((w, i) => stopWorker(pool, w, i, ids[i])));
    throw e;
  }
  return new WorkerService(pool, port, host, workers);
}

/** Resolves with the port worker `w` listens on; rejects with its failure or its exit. */
function listening(w: Worker, index: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (): void => { w.off("message", onMessage); w.off("error", onError); w.off("exit", onExit); };
    const onMessage = (msg: unknown): void => {
      if (!isReport(msg)) return;
      done();
      if (msg[KEY] === "listening") resolve(msg.port);
      else if (msg[KEY] === "failed") reject(failure(msg.code, msg.mbuf, `worker ${index}: ${msg.message}`));
    };
    const onError = (e: Error): void => { done(); reject(e); };
    const onExit = (code: number): void => {
      done();
      reject(new MbufError("ESTATE", `worker ${index} exited (code ${code}) before it served: does its module call joinWorkers().serve()?`));
    };
    w.on("message", onMessage).on("error", onError).on("exit", onExit);
  });
}

/** A worker's failure as this thread's error: an MbufError, or an Error with Node's code (EADDRINUSE, ...). */
function failure(code: string, mbuf: boolean, message: string): Error {
  return mbuf ? new MbufError(code as MbufError["code"], message) : Object.assign(new Error(message), { code });
}

/** A worker's part of the service. */
export interface WorkerMember {
  /** This thread's Pool over the service's pool. */
  readonly pool: Pool;
  /** This worker's index, 0 to count - 1. */
  readonly index: number;
  /** How many workers the service has. */
  readonly count: number;
  /** startWorkers' `data`. */
  readonly data: unknown;
  /**
   * Serves `listener` on the service's port (createServer's options; `ownerBase` and `owner`
   * default to the start of this worker's owner range). Once per worker.
   * @returns the server, listening. @throws MbufError ESTATE on a second call; as createServer.
   */
  serve(listener: ConnectionListener, options?: TcpServerOptions): Promise<MbufServer>;
}

/**
 * Joins the service this worker was started for: attaches to its pool (with `options`, as
 * Pool.attach) and answers the main thread's close.
 * @throws MbufError ESTATE in the main thread or in a worker startWorkers did not start; as Pool.attach.
 */
export function joinWorkers(options: AttachOptions = {}): WorkerMember {
  checkOptions(options, "joinWorkers options", ATTACH_OPTION_KEYS);
  const join = (isMainThread ? undefined : (workerData as Record<string, unknown> | null)?.[KEY]) as Join | undefined;
  if (join === undefined || parentPort === null) {
    throw new MbufError("ESTATE", "joinWorkers runs in a worker that startWorkers started");
  }
  const port = parentPort;
  const pool = Pool.attach(join.handle, options);
  const owners = ownerRange(join.index);
  pool.setOwner(owners.from);
  let server: MbufServer | null = null;
  const report = (r: Report): void => port.postMessage(r);
  const onMessage = (msg: unknown): void => {
    if (!isOurs(msg) || msg[KEY] !== "close") return;
    port.off("message", onMessage);
    void (server?.close() ?? Promise.resolve()).finally(() => {
      pool.close();
      report({ [KEY]: "closed" });
    });
  };
  port.on("message", onMessage);
  // Listening for close alone does not keep the worker alive: one that never serves exits, and
  // startWorkers says so, instead of waiting for a listen that never comes.
  port.unref();
  return {
    pool, index: join.index, count: join.count, data: join.data,
    async serve(listener, serverOptions = {}) {
      if (server !== null) throw new MbufError("ESTATE", "serve: this worker serves already (one server a worker)");
      try {
        const s = createServer(pool, { ownerBase: owners.from, owner: owners.from, ...serverOptions }, listener);
        server = s;
        const addr: AddressInfo = await s.listen({ port: join.port, host: join.host, reusePort: true });
        report({ [KEY]: "listening", port: addr.port });
        return s;
      } catch (e) {
        const mbuf = e instanceof MbufError;
        const code = mbuf ? e.code : String((e as { code?: unknown } | null)?.code ?? "ESTATE");
        report({ [KEY]: "failed", code, mbuf, message: e instanceof Error ? e.message : String(e) });
        throw e;
      }
    },
  };
}
