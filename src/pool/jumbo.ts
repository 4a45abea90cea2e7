// Cluster sizes a pool can give (getjcl, cljget, getjclWait): the profile's
// MCLBYTES, and on modern FreeBSD the three jumbo sizes of its jumbo zones.
// Other systems had no jumbo zones, so a jumbo size there is EINVAL naming
// the sizes the profile has, never a silent 0 that would read as exhaustion.
// The core refuses the same sizes; this module only words the refusal.

import { MbufError } from "../errors.js";
import { MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES } from "../constants.js";
import type { Layout } from "../tunables/profiles.js";

/** The cluster sizes of a pool with MCLBYTES `mclbytes` and layout `layout`. */
export function clusterSizes(mclbytes: number, layout: Layout): readonly number[] {
  if (!layout.jumbo) return [mclbytes];
  return [mclbytes, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES];
}

/** True if `size` is a cluster size of the pool (`sizes` from clusterSizes). */
export function isClusterSize(size: unknown, sizes: readonly number[]): boolean {
  return typeof size === "number" && sizes.includes(size);
}

/** The EINVAL for a size that is not one of `sizes` on profile `profile`. */
export function sizeError(call: string, size: unknown, profile: string, sizes: readonly number[]): MbufError {
  const jumbo = sizes.length > 1 ? "" : "; jumbo clusters are modern FreeBSD's (profile freebsd)";
  return new MbufError("EINVAL",
    `${call}: size ${String(size)} is not a cluster size of profile ${profile} (it has ${sizes.join(", ")}${jumbo})`);
}
