// netstat -m as AIX 3.2.5 prints it (seed 004). AIX's netstat is the
// 4.3BSD-Reno one (usr.bin/netstat/mbuf.c 5.9): the census first, then the
// cluster pool as "mapped pages", then memory counted as the mbufs in use
// plus every cluster carved, with the free clusters as the only free memory:
//   totmem  = mbufs_in_use * MSIZE + clusters_total * MCLBYTES
//   totfree = clusters_free * MCLBYTES
//   "totmem/1024 Kbytes allocated to network ((totmem - totfree) * 100 / totmem % in use)"
// Seed 004 checks out: 253*256 + 64*4096 = 326912 bytes = 319 K, and
// (326912 - 48*4096) * 100 / 326912 = 39 %.

import type { PoolStats } from "./snapshot.js";
import { typeLines, mbufsInUse, FREEBSD4_TYPE_NAMES } from "./freebsd.js";

/** AIX's type names: 4.3BSD-Reno's table, the one FreeBSD 4's netstat kept, in netstat's order. */
export const AIX_TYPE_NAMES = FREEBSD4_TYPE_NAMES;

/** The figures of AIX's report, for tests and other formats. */
export function aixFigures(s: PoolStats): { inUse: number; pagesUsed: number; pagesTotal: number; kbytes: number; percent: number } {
  const inUse = mbufsInUse(s);
  const totmem = inUse * s.msize + s.clusters.total * s.mclbytes;
  const totfree = s.clusters.cache * s.mclbytes;
  return {
    inUse,
    pagesUsed: s.clusters.current,
    pagesTotal: s.clusters.total,
    kbytes: Math.floor(totmem / 1024),
    // An empty pool has no memory: 0 % rather than a division by zero.
    percent: totmem === 0 ? 0 : Math.floor(((totmem - totfree) * 100) / totmem),
  };
}

/** AIX 3.2.5 `netstat -m`. */
export function formatAIX(s: PoolStats): string {
  const f = aixFigures(s);
  return [
    `${f.inUse} mbufs in use:`,
    ...typeLines(s, AIX_TYPE_NAMES),
    `${f.pagesUsed}/${f.pagesTotal} mapped pages in use`,
    `${f.kbytes} Kbytes allocated to network (${f.percent}% in use)`,
    `${s.mbufs.denied + s.clusters.denied} requests for memory denied`,
    `${s.mbufs.delayed + s.clusters.delayed} requests for memory delayed`,
    `${s.drains} calls to protocol drain routines`,
  ].join("\n") + "\n";
}
