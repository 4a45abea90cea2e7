// The Node flags the worker threads this package starts inherit: the
// process's own (a --import loader, --expose-gc, ...), less what only makes
// sense for the main script. A script run with `node --input-type=module -e`
// has --input-type and the eval'd source in process.execArgv, and a worker
// started from a file refuses --input-type (ERR_INPUT_TYPE_NOT_ALLOWED).

/** Flags that take the next argument as their value, and that a worker from a file must not get. */
const WITH_VALUE = new Set(["-e", "--eval", "-p", "--print"]);

/** process.execArgv without --input-type, -e/--eval and -p/--print (and their source). */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a)) { i++; continue; }
    if (a.startsWith("--input-type") || a.startsWith("--eval=") || a.startsWith("--print=")) continue;
    out.push(a);
  }
  return out;
}
