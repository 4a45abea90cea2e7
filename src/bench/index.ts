// The alloc/free benchmark as the package ships it: mbufpool against its
// peers, measured in one run on the user's machine (`mbufpool bench`).
// Peers that cannot be loaded here (a development dependency that is not
// installed) are skipped and named in the report.

import type { BenchSuite } from "./types.js";
import { allocSuite } from "./cases/alloc.js";
import { chainSuite } from "./cases/chain.js";
import { packetSuite } from "./cases/packet.js";
import { sharedSuite } from "./cases/shared.js";
import { loadTlsf } from "./peers/tlsf.js";
import { loadThing } from "./peers/thing.js";

export { runBench, groupsOf, fmtOps, machine, type BenchOptions, type BenchReport, type BenchResult } from "./runner.js";
export type { BenchCase, BenchCheck, BenchSuite, BenchTarget, SkippedCase } from "./types.js";

/** Every case file's suite, with the peers that could be loaded. */
export async function benchSuites(): Promise<BenchSuite[]> {
  return [allocSuite({ tlsf: loadTlsf(), thing: await loadThing() }), chainSuite(), packetSuite(), sharedSuite()];
}
