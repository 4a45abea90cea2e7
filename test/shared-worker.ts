// The worker threads of the shared-pool tests: test/fixtures/shared/worker.mjs
// attached to a pool's share handle, with a call that sends one command and
// waits for its one reply.
import { Worker, type MessagePort } from "node:worker_threads";
import { once } from "node:events";
import type { ShareHandle } from "mbufpool";

const WORKER = new URL("./fixtures/shared/worker.mjs", import.meta.url);

export interface SharedWorker {
  w: Worker;
  /** Sends `msg` and resolves with the worker's reply (rejects if the worker fails). */
  ask: <T>(msg: object, transfer?: MessagePort[]) => Promise<T>;
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
  const ask = async <T>(msg: object, transfer: MessagePort[] = []): Promise<T> => {
    const reply = once(w, "message") as Promise<[T]>;
    w.postMessage(msg, transfer);
    const failed = once(w, "error").then(([e]) => { throw e; });
    return (await Promise.race([reply, failed]))[0];
  };
  const close = async (): Promise<void> => {
    w.postMessage({ cmd: "close" });
    await exited;
  };
  return { w, ask, exited, close };
}
