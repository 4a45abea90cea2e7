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
import { MT } from "../constants.js";
import { typeLines, mbufsInUse } from "./freebsd.js";

/** AIX's type names (the 4.3BSD-Reno table), in netstat's order. */
export const AIX_TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [MT.DATA, "data"],
  [MT.OOBDATA, "oob data"],
  [MT.CONTROL, "ancillary data"],
  [MT.HEADER, "packet headers"],
  [MT.SOCKET, "socket structures"],
  [MT.PCB, "protocol control blocks"],
  [MT.RTABLE, "routing table entries"],
  [MT.HTABLE, "IMP host table entries"],
  [MT.ATABLE, "address resolution tables"],
  [MT.FTABLE, "fragment reassembly queue headers"],
  [MT.SONAME, "socket names and addresses"],
  [MT.SOOPTS, "socket options"],
  [MT.RIGHTS, "access rights"],
  [MT.IFADDR, "interface addresses"],
];

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
