// The audit's recount of chains and sockets (called from audit.ts):
// pkthdr.len of every free-standing packet-header chain against the chain's
// length, and every socket's two socket buffers against their records
// (sb_cc, sb_mbcnt, sb_lastrecord, sb_mbtail). Sockets are found by walking
// in-use mbufs that carry M_SOCK; the magic word must be there too. Every walk
// is bounded by the number of mbufs, so a cycle is reported, never followed.

import {
  MSIZE, M_TYPE, M_FLAGS, M_NEXTPKT, PH_LEN, M_PKTHDR, M_LINKED, M_SOCK, MT_FREE, ZONE_MBUF,
} from "./constants";
import { audit_report } from "./stats";
import { top, first_page, next_page, page_entry, page_addr, meta_carved } from "./arena";
import { mbufZone, check_mbuf } from "./mbuf";
import { mnext, mlen } from "./header";
import {
  SO_MAGIC, SO_MAGIC_OFF, SO_PCB, SO_RCV, SO_SND, SB_MB, SB_LASTRECORD, SB_MBTAIL, SB_CC, SB_MBCNT, mbcnt_of,
} from "./sockbuf";

/** pkthdr.len of a free-standing packet-header chain differs from its length. */
// @ts-ignore: decorator
@inline export const A_PKTHDR_LEN: u32 = 21;
/** A socket buffer's sb_cc or sb_mbcnt differs from a recount of its records. */
// @ts-ignore: decorator
@inline export const A_SOCKBUF_COUNT: u32 = 22;
/** A socket is malformed: magic word, PCB, first mbuf not held, tails wrong, or a cycle. */
// @ts-ignore: decorator
@inline export const A_SOCKET: u32 = 23;

/** Recounts socket buffer `sb` of socket `so`; 0 or a problem code. */
function audit_sockbuf(so: usize, sb: usize): u32 {
  let bound = mbufZone.total;
  let rec = <usize>load<u32>(sb + SB_MB);
  if (rec && (check_mbuf(rec) || !(load<u16>(rec, M_FLAGS) & M_LINKED))) return audit_report(A_SOCKET, so, 1, <u32>rec);
  let cc: u32 = 0, mbcnt: u32 = 0, steps: u32 = 0, lastrec: usize = 0, lastm: usize = 0;
  while (rec) {
    lastrec = rec;
    let x = rec;
    while (x) {
      if (++steps > bound) return audit_report(A_SOCKET, so, bound, steps);
      cc += mlen(x);
      mbcnt += mbcnt_of(x);
      lastm = x;
      x = mnext(x);
    }
    rec = <usize>load<u32>(rec, M_NEXTPKT);
  }
  if (load<u32>(sb + SB_CC) != cc) return audit_report(A_SOCKBUF_COUNT, so, cc, load<u32>(sb + SB_CC));
  if (load<u32>(sb + SB_MBCNT) != mbcnt) return audit_report(A_SOCKBUF_COUNT, so, mbcnt, load<u32>(sb + SB_MBCNT));
  if (load<u32>(sb + SB_LASTRECORD) != <u32>lastrec) return audit_report(A_SOCKET, so, <u32>lastrec, load<u32>(sb + SB_LASTRECORD));
  if (load<u32>(sb + SB_MBTAIL) != <u32>lastm) return audit_report(A_SOCKET, so, <u32>lastm, load<u32>(sb + SB_MBTAIL));
  return 0;
}

/** Visits every mbuf in use: packet-header lengths and sockets. Runs after the link checks. */
export function audit_chains(): u32 {
  let bound = mbufZone.total;
  for (let p = first_page(ZONE_MBUF); p < top; p = next_page(p, ZONE_MBUF)) {
    let carved = meta_carved(page_entry(p));
    let page = page_addr(p);
    for (let i: u32 = 0; i < carved; i++) {
      let m = page + (<usize>i) * MSIZE;
      if (load<u16>(m, M_TYPE) == MT_FREE) continue;
      let flags = load<u16>(m, M_FLAGS);
      if ((flags & (M_PKTHDR | M_LINKED)) == M_PKTHDR) {
        let n: u32 = 0, steps: u32 = 0, x = m;
        while (x) {
          if (++steps > bound) return audit_report(A_PKTHDR_LEN, m, bound, steps);
          n += mlen(x);
          x = mnext(x);
        }
        if (<u32>load<i32>(m, PH_LEN) != n) return audit_report(A_PKTHDR_LEN, m, n, <u32>load<i32>(m, PH_LEN));
      }
      if (flags & M_SOCK) {
        if (load<u32>(m, SO_MAGIC_OFF) != SO_MAGIC || !(flags & M_LINKED)) return audit_report(A_SOCKET, m, SO_MAGIC, load<u32>(m, SO_MAGIC_OFF));
        let pcb = <usize>load<u32>(m, SO_PCB);
        if (pcb && (check_mbuf(pcb) || !(load<u16>(pcb, M_FLAGS) & M_LINKED))) return audit_report(A_SOCKET, m, 0, <u32>pcb);
        let r = audit_sockbuf(m, m + SO_RCV);
        if (!r) r = audit_sockbuf(m, m + SO_SND);
        if (r) return r;
      }
    }
  }
  return 0;
}
