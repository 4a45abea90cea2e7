// Loading what a command needs but the library does not.
//
// fast-check (the fuzzer, the trace replayer) and benchmark.js (the bench
// command) are optional peer dependencies: a service that uses mbufpool as a
// library installs neither. The commands that need one import their module
// when they run, so `mbufpool --help` and every other command work without
// it; a missing package is bad usage with the line that installs it (exit 2),
// not a stack trace.

import { UsageError } from "./options.js";
import { isMissingPackage } from "../errors.js";

/** The optional packages, with the version the project is tested with. */
export const OPTIONAL = {
  "fast-check": "4.10.2",
  benchmark: "2.1.4",
} as const;

export type OptionalPackage = keyof typeof OPTIONAL;

/**
 * Imports `load()`'s module, which needs `pkg`.
 * @throws UsageError naming the command and the install line if `pkg` is not installed; any other error as it is.
 */
export async function needing<T>(pkg: OptionalPackage, command: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackage(e, pkg)) {
      throw new UsageError(`${command} needs ${pkg}, an optional dependency that is not installed: `
        + `npm install --save-dev ${pkg}@${OPTIONAL[pkg]}`);
    }
    throw e;
  }
}
