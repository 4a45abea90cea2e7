// Starting the worker threads this package starts with the process's Node
// flags (a --import loader, --conditions, ...), less what only makes sense
// for the main script. A script run with `node --input-type=module -e` has
// --input-type and the eval'd source in process.execArgv, and a worker started
// from a file refuses --input-type (ERR_INPUT_TYPE_NOT_ALLOWED). Node copies
// process.execArgv itself when execArgv is not given, and then leaves out the
// per-process flags (--expose-gc, ...) a worker may not be given; given
// explicitly, those are ERR_WORKER_INVALID_EXEC_ARGV. So the flags are given
// only when something had to be taken out, and a refused per-process flag is
// dropped (it is in force for the whole process already).

import { Worker, type WorkerOptions } from "node:worker_threads";

/** Flags that take the next argument as their value, and that a worker from a file must not get. */
const WITH_VALUE = new Set(["-e", "--eval", "-p", "--print"]);

/**
 * process.execArgv without --input-type, -e/--eval and -p/--print (and their source), or
 * undefined if it has none of them (Node's own copy is right then).
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a)) { i++; continue; }
    if (a.startsWith("--input-type") || a.startsWith("--eval=") || a.startsWith("--print=")) continue;
    out.push(a);
  }
  return out.length === argv.length ? undefined : out;
}

/** new Worker(module, options) with the flags above. */
export function startWorker(module: string | URL, options: WorkerOptions): Worker {
  const execArgv = workerExecArgv();
  try {
    return new Worker(module, { ...options, execArgv });
  } catch (e) {
    const refused = (e as { code?: string }).code === "ERR_WORKER_INVALID_EXEC_ARGV" && execArgv
      ? /flags: (.*)$/.exec((e as Error).message)?.[1]?.split(", ") : undefined;
    if (!refused) throw e;
    return new Worker(module, { ...options, execArgv: execArgv!.filter((a) => !refused.includes(a)) });
  }
}
