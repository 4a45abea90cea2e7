// The worker threads of the shared-pool tests: test/fixtures/shared/worker.mjs
// attached to a pool's share handle. `ask` sends one command and waits for its
// one reply; a waiting allocation's outcome comes on its own, whenever it
// settles, and is kept apart from the replies (`settled`, `outcomes`).
import { Worker, type MessagePort } from "node:worker_threads";
import type { ShareHandle } from "mbufpool";

const WORKER = new URL("./fixtures/shared/worker.mjs", import.meta.url);

/** A waiting allocation's outcome in a worker: its handle, or the MbufError code it rejected with. */
export interface Settled { settled: string; m?: number; code?: string }

export interface SharedWorker {
  w: Worker;
  /** Sends `msg` and resolves with the worker's reply (rejects if the worker fails). */
  ask: <T>(msg: object, transfer?: MessagePort[]) => Promise<T>;
  /** Resolves with the outcome of the worker's waiter `id` (a "wait" command's), once it settles. */
  settled: (id: string) => Promise<Settled>;
  /** The outcomes that came so far, by waiter id. */
  outcomes: Map<string, Settled>;
  /** Resolves when the worker has exited. */
  exited: Promise<void>;
  /** Asks the worker to close its pool and exit, and waits for the exit. */
  close: () => Promise<void>;
}

/** A worker attached to `handle`. */
export function spawnShared(handle: ShareHandle): SharedWorker {
  const w = new Worker(WORKER, { workerData: { handle } });
  // Listened for at once: a worker's exit can follow its last message in the same turn.
  const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
  const outcomes = new Map<string, Settled>();
  const wanted = new Map<string, (s: Settled) => void>();
  const replies: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  let failure: unknown = null;
  w.on("message", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && "settled" in msg) {
      const s = msg as Settled;
      outcomes.set(s.settled, s);
      wanted.get(s.settled)?.(s);
      return;
    }
    replies.shift()?.resolve(msg);
  });
  w.on("error", (e) => {
    failure = e;
    for (const r of replies.splice(0)) r.reject(e);
  });
  const ask = <T>(msg: object, transfer: MessagePort[] = []): Promise<T> => new Promise<T>((resolve, reject) => {
    if (failure) return reject(failure);
    replies.push({ resolve: resolve as (v: unknown) => void, reject });
    w.postMessage(msg, transfer);
  });
  const settled = (id: string): Promise<Settled> =>
    outcomes.has(id) ? Promise.resolve(outcomes.get(id)!) : new Promise((resolve) => wanted.set(id, resolve));
  const close = async (): Promise<void> => {
    w.postMessage({ cmd: "close" });
    await exited;
  };
  return { w, ask, settled, outcomes, exited, close };
}
