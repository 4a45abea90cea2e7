// netstat -m as FreeBSD prints it: the modern libxo layout and the 4.x
// layout (usr.bin/netstat/mbuf.c). Arithmetic per REFERENCE.md.

import type { PoolStats, ZoneStats } from "./snapshot.js";
import { networkBytes } from "./snapshot.js";
import { MT } from "../constants.js";

/** FreeBSD 4's type names, in netstat's table order. */
export const FREEBSD4_TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
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

/** Lines of the per-type census in FreeBSD 4 / AIX style, one per non-zero type. */
export function typeLines(s: PoolStats, names: ReadonlyArray<readonly [number, string]>): string[] {
  const out: string[] = [];
  const seen = new Set<number>([MT.FREE]);
  for (const [t, name] of names) {
    seen.add(t);
    if (s.census[t]) out.push(`\t${s.census[t]} mbufs allocated to ${name}`);
  }
  for (let t = 0; t < s.census.length; t++) {
    if (!seen.has(t) && s.census[t]) out.push(`\t${s.census[t]} mbufs allocated to <mbuf type ${t}>`);
  }
  return out;
}

/** mbufs in use, by the census (what netstat sums as "current"). */
export function mbufsInUse(s: PoolStats): number {
  let n = 0;
  for (let t = 1; t < s.census.length; t++) n += s.census[t];
  return n;
}

/** FreeBSD 4.4 to 4.11 `netstat -m`. */
export function formatFreeBSD4(s: PoolStats): string {
  const msize = s.msize, mclbytes = s.mclbytes;
  const totmem = s.mbufs.peak * msize + s.clusters.peak * mclbytes;
  const totspace = s.clusters.limit * mclbytes + s.mbufs.limit * msize;
  return [
    `${mbufsInUse(s)}/${s.mbufs.peak}/${s.mbufs.limit} mbufs in use (current/peak/max):`,
    ...typeLines(s, FREEBSD4_TYPE_NAMES),
    `${s.clusters.current}/${s.clusters.peak}/${s.clusters.limit} mbuf clusters in use (current/peak/max)`,
    `${Math.floor(totmem / 1024)} Kbytes allocated to network (${Math.floor((totmem * 100) / totspace)}% of mb_map in use)`,
    `${s.mbufs.denied + s.clusters.denied} requests for memory denied`,
    `${s.mbufs.delayed + s.clusters.delayed} requests for memory delayed`,
    `${s.drains} calls to protocol drain routines`,
  ].join("\n") + "\n";
}

/** One jumbo zone's line: current/cache/total/max (zeros but the limit for a pool without that zone). */
function jumboLine(z: ZoneStats | undefined, limit: number, name: string): string {
  const cur = z?.current ?? 0, cache = z?.cache ?? 0;
  return `${cur}/${cache}/${cur + cache}/${limit} ${name} jumbo clusters in use (current/cache/total/max)`;
}

/** Modern FreeBSD `netstat -m` (the lines REFERENCE.md lists); `drainLine` adds FreeBSD 6-8's last line. */
export function formatFreeBSD(s: PoolStats, drainLine = false): string {
  const p = s.packets;
  // The snapshot's zone figures are already REFERENCE.md's arithmetic: mbufs current =
  // mbuf_count + packet_count, clusters current = cluster_count - packet_free, and pairs
  // parked in the packet cache count as cache in both zones (src/stats/snapshot.ts).
  const mCur = s.mbufs.current, mCache = s.mbufs.cache;
  const cCur = s.clusters.current, cCache = s.clusters.cache;
  const net = networkBytes(s);
  const cur = net.inUse, cache = net.cache;
  const j = s.jumbo;
  const lines = [
    `${mCur}/${mCache}/${mCur + mCache} mbufs in use (current/cache/total)`,
    `${cCur}/${cCache}/${cCur + cCache}/${s.clusters.limit} mbuf clusters in use (current/cache/total/max)`,
    `${p.current}/${p.cache} mbuf+clusters out of packet secondary zone in use (current/cache)`,
    jumboLine(s.jumbo?.page, s.jumboLimits.page, "4k (page size)"),
    jumboLine(s.jumbo?.nine, s.jumboLimits.nine, "9k"),
    jumboLine(s.jumbo?.sixteen, s.jumboLimits.sixteen, "16k"),
    `${Math.floor(cur / 1024)}K/${Math.floor(cache / 1024)}K/${Math.floor((cur + cache) / 1024)}K bytes allocated to network (current/cache/total)`,
    `${s.mbufs.denied}/${s.clusters.denied}/${p.denied} requests for mbufs denied (mbufs/clusters/mbuf+clusters)`,
    `${s.mbufs.delayed}/${s.clusters.delayed}/${p.delayed} requests for mbufs delayed (mbufs/clusters/mbuf+clusters)`,
    `${j?.page.delayed ?? 0}/${j?.nine.delayed ?? 0}/${j?.sixteen.delayed ?? 0} requests for jumbo clusters delayed (4k/9k/16k)`,
    `${j?.page.denied ?? 0}/${j?.nine.denied ?? 0}/${j?.sixteen.denied ?? 0} requests for jumbo clusters denied (4k/9k/16k)`,
  ];
  if (drainLine) lines.push(`${s.drains} calls to protocol drain routines`);
  return lines.join("\n") + "\n";
}
