// Lanes: a shared pool's per-thread exchange areas, and the fast paths that
// need one, the bulk calls and m_append.
//
// The exchange areas of an unshared core (bulk.ts XCHG, chain_data.ts DXCHG)
// are static data: in a shared memory they are every thread's, so a call that
// carries handles or bytes through them must hold the pool lock from the
// moment the host fills them until it has read them back. Each thread's lane
// is its own instead (in the thread area, cache.ts, beside its slot): what a
// thread leaves there no other thread reads or writes, so the bulk calls and
// an append can run as fast paths, readers of the big-reader lock, and take
// the lock only to refill or flush the thread's stacks.
//
// ╒═════════════════════ lane (LANE_BYTES, 64-byte aligned) ═════════════════════╕
// │ handles u32[LANE_HANDLES]: m_get_bulk_lane's out, m_freem_bulk_lane's in     │
// │ data u8[LANE_DATA_BYTES]: the bytes of an m_append whose `src` is here       │
// └──────────────────────────────────────────────────────────────────────────────┘
//
// A fast path either does the whole call or answers ESLOW having done
// nothing; the locked path then does it as the unshared core would (through
// XCHG for the bulk calls), with its exact errors and bulk_index(). So the
// fast bulk free need not tell one failure from another: it checks every
// chain first (a head in use, room on the stacks, a cluster of the cluster
// zone), then claims every mbuf by a compare-exchange of m_type to
// m_type | MT_CLAIMED. A claim lost, to a handle given twice or to another
// thread freeing the same chain, gives back the claims made and answers
// ESLOW; once all are claimed nothing can fail, and they go onto the stacks.
// Another thread's fast free treats a claimed mbuf as freed (EDOUBLEFREE), and
// nothing outside a fast path ever sees one: a writer waits for readers.

import { M_FLAGS, M_NEXT, M_TYPE, M_EXT, M_LINKED, M_LEN, M_PKTHDR, PH_LEN, EXT_BUF, MT_FREE, ZONE_CLUSTER, EINVAL } from "./constants";
import {
  tSlot, tLane, reader_enter, reader_leave, census_add, next_seq, reserve_held, attach_cached, cache_fast, cache_on,
  cache_balance, packets_on, packet_free, threadOwner, tWaiters, MT_CLAIMED, ESLOW, EBUSY_WRITER, MCACHE, CCACHE, LANE_HANDLES, L_DATA,
  LANE_DATA_BYTES, S_MCACHED, S_CCACHED, S_MSTACK, S_CSTACK, S_MALLOCS, S_MFREES, S_CALLOCS, S_CFREES,
} from "./cache";
import { check_head, check_mbuf, mbuf_header, valid_how, valid_type, mbufZone, clusterZone } from "./mbuf";
import { m_get_bulk, m_freem_bulk, XCHG } from "./bulk";
import { ref_ptr, meta_ptr, meta_zone } from "./arena";
import { ext_ptr, trailing_space, mdata, mlen } from "./header";
import { chain_last } from "./chain";

/** Address of this thread's lane, 0 for an instance no thread area serves (mb_lane). */
export function mb_lane(): i32 { return <i32>tLane; }

/** True if [p, p+len) lies inside this thread's data lane. */
// @ts-ignore: decorator
@inline export function in_lane_data(p: i32, len: i32): bool {
  let a = <usize>(<u32>p), d = tLane + L_DATA;
  return tLane != 0 && len >= 0 && <u32>len <= LANE_DATA_BYTES && a >= d && a - d <= <usize>(LANE_DATA_BYTES - <u32>len);
}

// === Bulk allocation ===

/**
 * m_get_bulk into this thread's lane: `n` (at most LANE_HANDLES) mbufs, with
 * a packet header if `flags` is M_PKTHDR, with a cluster if `cluster` is 1.
 * Returns how many were allocated, fewer when the pool ran out (as
 * m_get_bulk); EINVAL for a bad argument or an instance without a lane;
 * ESLOW or EBUSY_WRITER (nothing taken) from the fast path.
 */
export function m_get_bulk_lane(n: i32, how: i32, type: i32, flags: i32, cluster: i32): i32 {
  if (!cache_on() || <u32>n > LANE_HANDLES || (flags & ~<i32>M_PKTHDR) || <u32>cluster > 1) return EINVAL;
  if (!valid_how(how) || !valid_type(type)) return EINVAL;
  if (n == 0) return 0;
  if (cache_fast()) return lane_get(<u32>n, how, <u32>type, <u16>flags, cluster != 0);
  let got = m_get_bulk(n, how, type, flags, cluster);
  if (got > 0) {
    memory.copy(tLane, XCHG, <usize>got << 2);
    cache_balance(mbufZone, clusterZone, true);
  }
  return got;
}

/** The fast path: all `n` off this thread's stacks, or ESLOW with nothing taken. */
function lane_get(n: u32, how: i32, type: u32, flags: u16, cluster: bool): i32 {
  if (!reader_enter()) return EBUSY_WRITER;
  let s = tSlot;
  let have = load<u32>(s, S_MCACHED), k = load<u32>(s, S_CCACHED);
  if (have < n || (cluster && (k < n || reserve_held(how) || packets_on()))) {
    reader_leave();
    return ESLOW;
  }
  let size = clusterZone.itemSize;
  for (let i: u32 = 0; i < n; i++) {
    let m = <usize>load<u32>(s + S_MSTACK + (<usize>(have - 1 - i) << 2));
    mbuf_header(m, type, flags, threadOwner, next_seq());
    if (cluster) attach_cached(m, flags, <usize>load<u32>(s + S_CSTACK + (<usize>(k - 1 - i) << 2)), size);
    store<u32>(tLane + (<usize>i << 2), <u32>m);
  }
  store<u32>(s, have - n, S_MCACHED);
  census_add(type, <i32>n);
  store<u32>(s, load<u32>(s, S_MALLOCS) + n, S_MALLOCS);
  if (cluster) {
    store<u32>(s, k - n, S_CCACHED);
    store<u32>(s, load<u32>(s, S_CALLOCS) + n, S_CALLOCS);
  }
  reader_leave();
  return <i32>n;
}

// === Bulk free ===

/**
 * m_freem_bulk of the `n` chains whose heads are in this thread's lane.
 * Returns n; the error of the first bad handle (see bulk_index()) with
 * nothing freed, as m_freem_bulk; EINVAL for a bad n or an instance without a
 * lane; ESLOW or EBUSY_WRITER (nothing freed) from the fast path.
 */
export function m_freem_bulk_lane(n: i32): i32 {
  if (!cache_on() || <u32>n > LANE_HANDLES) return EINVAL;
  if (cache_fast()) return lane_free(<u32>n);
  memory.copy(XCHG, tLane, <usize>n << 2);
  return m_freem_bulk(n);
}

/** The fast path: every chain onto this thread's stacks, or ESLOW with nothing freed. */
function lane_free(n: u32): i32 {
  if (!reader_enter()) return EBUSY_WRITER;
  // A free while a thread waits goes to the zones, where the waiters are served.
  if (!lane_fits(n) || atomic.load<i32>(tWaiters) != 0) {
    reader_leave();
    return ESLOW;
  }
  let claimed = lane_claim(n);
  if (claimed >= 0) {
    lane_unclaim(n, <u32>claimed);
    reader_leave();
    return ESLOW;
  }
  let s = tSlot;
  let top = load<u32>(s, S_MCACHED), k = load<u32>(s, S_CCACHED);
  let freed: u32 = 0, cfreed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let x = <usize>load<u32>(tLane + (<usize>i << 2));
    while (x) {
      let f = load<u16>(x, M_FLAGS);
      let next = <usize>load<u32>(x, M_NEXT);
      if (next) store<u16>(next, load<u16>(next, M_FLAGS) & ~M_LINKED, M_FLAGS);
      census_add(load<u16>(x, M_TYPE) & ~MT_CLAIMED, -1);
      if (f & M_EXT) {
        let c = <usize>load<u32>(ext_ptr(x, f), EXT_BUF);
        if (atomic.sub<u32>(ref_ptr(c), 1) == 1) {
          store<u32>(s + S_CSTACK + (<usize>(k + cfreed) << 2), <u32>c);
          cfreed++;
        }
      }
      store<u16>(x, 0, M_FLAGS);
      store<u16>(x, MT_FREE, M_TYPE);
      store<u32>(s + S_MSTACK + (<usize>(top + freed) << 2), <u32>x);
      freed++;
      x = next;
    }
  }
  store<u32>(s, top + freed, S_MCACHED);
  store<u32>(s, k + cfreed, S_CCACHED);
  store<u32>(s, load<u32>(s, S_MFREES) + freed, S_MFREES);
  store<u32>(s, load<u32>(s, S_CFREES) + cfreed, S_CFREES);
  reader_leave();
  return <i32>n;
}

/**
 * True if every handle of the lane heads a chain the fast free may take: a
 * head in use, of mbufs in use, with clusters of the cluster zone only, all
 * of it fitting on the stacks (a cluster counted as if its last reference
 * went). Reads only.
 */
function lane_fits(n: u32): bool {
  let s = tSlot;
  let mroom = MCACHE - load<u32>(s, S_MCACHED), croom = CCACHE - load<u32>(s, S_CCACHED);
  for (let i: u32 = 0; i < n; i++) {
    let m = <usize>load<u32>(tLane + (<usize>i << 2));
    if (check_head(m)) return false;
    let x = m;
    while (x) {
      if (mroom == 0 || (x != m && check_mbuf(x) != 0)) return false;
      mroom--;
      let f = load<u16>(x, M_FLAGS);
      if (packet_free(x, f)) return false;
      if (f & M_EXT) {
        if (croom == 0 || meta_zone(load<u32>(meta_ptr(<usize>load<u32>(ext_ptr(x, f), EXT_BUF)))) != ZONE_CLUSTER) return false;
        croom--;
      }
      x = <usize>load<u32>(x, M_NEXT);
    }
  }
  return true;
}

/** Claims every mbuf of the lane's chains, in order; returns -1, or how many were claimed before one was lost. */
function lane_claim(n: u32): i32 {
  let claimed: i32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let x = <usize>load<u32>(tLane + (<usize>i << 2));
    while (x) {
      let type = load<u16>(x, M_TYPE);
      if (type == MT_FREE || (type & MT_CLAIMED) || atomic.cmpxchg<u16>(x, type, type | MT_CLAIMED, M_TYPE) != type) return claimed;
      claimed++;
      x = <usize>load<u32>(x, M_NEXT);
    }
  }
  return -1;
}

/** Gives back the first `claimed` claims lane_claim made, in its order. */
function lane_unclaim(n: u32, claimed: u32): void {
  for (let i: u32 = 0; i < n && claimed; i++) {
    let x = <usize>load<u32>(tLane + (<usize>i << 2));
    while (x && claimed) {
      store<u16>(x, load<u16>(x, M_TYPE) & ~MT_CLAIMED, M_TYPE);
      claimed--;
      x = <usize>load<u32>(x, M_NEXT);
    }
  }
}

// === Append ===

/**
 * The fast m_append of `len` bytes at `src` in this thread's data lane to the
 * chain of head `m`, when its last mbuf has the trailing space for them.
 * Returns 1, a handle error, or ESLOW (nothing changed) for anything the
 * locked m_append must do or judge: a source elsewhere, a bad how, a chain
 * that must grow; EBUSY_WRITER if a writer holds the lock.
 */
export function lane_append(m: usize, len: i32, src: i32, how: i32): i32 {
  if (!in_lane_data(src, len) || !valid_how(how)) return ESLOW;
  if (!reader_enter()) return EBUSY_WRITER;
  let e = check_head(m);
  if (e) { reader_leave(); return e; }
  let last = chain_last(m);
  if (trailing_space(last) < <u32>len) { reader_leave(); return ESLOW; }
  let l = mlen(last);
  memory.copy(mdata(last) + l, <usize>(<u32>src), <usize>len);
  store<u32>(last, l + <u32>len, M_LEN);
  if (load<u16>(m, M_FLAGS) & M_PKTHDR) store<i32>(m, load<i32>(m, PH_LEN) + len, PH_LEN);
  reader_leave();
  return 1;
}
