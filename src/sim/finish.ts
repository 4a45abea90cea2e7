// The end of a scenario's variant: the run has freed everything it still
// held, so its pool must audit clean with nothing in use before it closes.
// A scenario that forgets a buffer (or corrupts a structure) fails loudly
// here instead of closing a pool that hides it.

import type { Pool } from "../pool.js";
import { MbufError } from "../errors.js";

/**
 * Audits `pool`, checks that no mbuf or cluster is still in use, and closes it.
 * @param what names the run in the error message (scenario and variant).
 * @throws MbufError ESTATE if the audit finds a problem or buffers are still in use (the pool is closed anyway).
 */
export function closeClean(pool: Pool, what: string): void {
  try {
    const a = pool.audit();
    if (!a.ok) throw new MbufError("ESTATE", `${what}: the pool does not audit clean: ${a.message}`);
    const s = pool.stats();
    if (s.mbufs.current || s.clusters.current) {
      throw new MbufError("ESTATE", `${what}: ${s.mbufs.current} mbufs and ${s.clusters.current} clusters still in use at the end of the run`);
    }
  } finally {
    pool.close();
  }
}
