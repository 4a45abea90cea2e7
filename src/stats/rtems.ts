// rtems_bsdnet_show_mbuf_stats() (cpukit/libnetworking/rtems/rtems_showmbuf.c):
//
//   ************ MBUF STATISTICS ************
//   mbufs:%4lu    clusters:%4lu    free:%4lu        m_mbufs, m_clusters, m_clfree
//   drops:%4lu       waits:%4lu  drains:%4lu        m_drops, m_wait, m_drain
//   %10s:%-8u  x4 per row                          m_mtypes[0..19]: named types always,
//                                                  unnamed ones ("Type N") only when non-zero
//   (blank line)
//
// m_mbufs and m_clusters are the items carved from the pools; m_clfree the
// free clusters. The "free" census slot is the free mbufs: RTEMS's MGET (from
// FreeBSD 2.x) does m_mtypes[MT_FREE]-- and m_mtypes[type]++.

import type { PoolStats } from "./snapshot.js";

/** RTEMS's census names by type number (undefined: printed as "Type N" when non-zero). */
export const RTEMS_TYPE_NAMES: ReadonlyArray<string | undefined> = [
  "free", "data", "header", "socket", "pcb", "rtable", "htable", "atable",
  "soname", undefined, "soopts", "ftable", "rights", "ifaddr", "control", "oobdata",
];

/** RTEMS prints type slots 0..19. */
const RTEMS_SLOTS = 20;

/** printf("%4lu"): right-aligned in 4, longer numbers as they are. */
const r4 = (n: number): string => String(n).padStart(4);

/** RTEMS `rtems_bsdnet_show_mbuf_stats()`. */
export function formatRTEMS(s: PoolStats): string {
  let out = "************ MBUF STATISTICS ************\n";
  out += `mbufs:${r4(s.mbufs.total)}    clusters:${r4(s.clusters.total)}    free:${r4(s.clusters.cache)}\n`;
  out += `drops:${r4(s.mbufs.denied + s.clusters.denied)}       waits:${r4(s.mbufs.delayed + s.clusters.delayed)}  drains:${r4(s.drains)}\n`;
  let printed = 0;
  for (let t = 0; t < RTEMS_SLOTS; t++) {
    const count = t === 0 ? s.mbufs.cache : (s.census[t] ?? 0);
    let name = RTEMS_TYPE_NAMES[t];
    if (name === undefined) {
      if (count === 0) continue;
      name = `Type ${t}`;
    }
    out += `${name.padStart(10)}:${String(count).padEnd(8)}`;
    if (++printed === 4) {
      out += "\n";
      printed = 0;
    }
  }
  if (printed) out += "\n";
  return out + "\n";
}
