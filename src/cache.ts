// The host cache: a small stack of ready mbuf handles in front of the core's
// mbuf zone, so that get/free of a plain mbuf costs no JS-to-Wasm call (the
// call alone costs about as much as the allocation). UMA's per-CPU buckets,
// DPDK's per-lcore mempool caches and page_pool's alloc cache do the same in
// front of their shared pools.
//
// The stack itself lives in the core (assembly/hcache.ts): its entries in
// static memory, its count in the counters block. This class only reads and
// writes them through typed-array views, and calls the core to refill or
// flush in bulk. So the core stays authoritative: reports count the mbufs the
// cache holds as cache, the audit checks every entry, and the core's own
// allocations and frees (getcl, chains, bulk calls) use the cache's top, so
// the stack stays the front of the zone's LIFO freelist and a pool hands out
// the same handles with the cache on or off (assembly/hcache.ts).
//
// What the host does per operation is exactly what the core would do:
// - get: the same argument checks as valid_how/valid_type (anything else goes
//   to the core, which answers EINVAL), then the header init of mbuf_init
//   (links, data pointer, length, type, flags, owner, sequence number, packet
//   header), the census and the zone's allocation counter.
// - free: the same handle checks as check_head (page table, alignment, items
//   carved, MT_FREE, M_LINKED), so a bad handle or a double free is reported
//   at the call that made it; then, for a plain mbuf (no cluster, no link),
//   what mbuf_free does: census, MT_FREE, the zone's free counter. Anything
//   else (a cluster, a chain) goes to the core.
// A cached mbuf is typed MT_FREE and flagged M_HCACHED: every call naming it
// is refused as a double free, and only such an mbuf is taken back.
//
// A refill takes only what is on the freelist (mb_cache_refill never carves,
// never counts a denial); on a miss the normal core path runs, so carving,
// drains and denied counts are those of a pool without the cache.
//
// Off by default (Pool.create({ cache: true }) switches it on): on Node 20 it
// measured slower than the two core calls it saves (bench/README.md).

import type { CoreExports } from "./core/exports.js";
import { Z, GL } from "./core/layout.js";
import { ZONE_MBUF, M_PKTHDR, M_EOR, M_BCAST, M_MCAST, PAGE_SIZE } from "./constants.js";

/** Core error codes the checks give (assembly/constants.ts). */
const EBADHANDLE = -1001;
const EDOUBLEFREE = -1002;
const EBUSY = -16;
/** m_flags bits (assembly/constants.ts). */
const M_LINKED = 0x4000;
const M_HCACHED = 0x1000;
/** Flags an mbuf may carry and still be freed by the host: mbuf_free only clears them. */
const PLAIN_FLAGS = M_PKTHDR | M_EOR | M_BCAST | M_MCAST;

// The hot paths below write their constants as literals, each named in a
// comment: a module constant costs V8 a context load and a hole check per use,
// and the extra bytecode keeps get/free from being inlined into their callers.
// Header words (32-bit, assembly/constants.ts): 0 m_next, 1 m_nextpkt, 2 m_data,
// 3 m_len, 4 m_type | m_flags << 16, 5 owner, 6 seq, 7 spare, 8 pkthdr.len,
// 9 pkthdr.rcvif; m_dat at byte 32 (M_HDR_SIZE), m_pktdat at 40 (M_PKTHDR_SIZE).
// Global words from the counters block's global part: census 0..15, G_SEQ 24,
// G_OWNER 25, G_HCACHE_COUNT 60 (checked against layout.ts in the constructor).
/** Bits of the type|flags word that send a free to the core: any other flag, a type above 15. */
const NOT_PLAIN = 0xffc9fff0;
if (NOT_PLAIN !== (~((PLAIN_FLAGS << 16) | 0xf) >>> 0) || (M_HCACHED << 16) !== 0x10000000 || (M_PKTHDR << 16) !== 0x20000) {
  throw new Error("mbufpool: the host cache's flag literals do not match src/constants.ts");
}
/** Default number of handles the host keeps at most. */
export const HOST_CACHE_SIZE = 64;

/** put() found something other than a plain mbuf in use (type|flags word `tf`): the error, or 1 for the core path. */
function notPlain(tf: number): number {
  if ((tf & 0xffff) === 0) return EDOUBLEFREE;
  if ((tf & (M_LINKED << 16)) !== 0) return EBUSY;
  return 1;
}

/** The host side of the host cache: get/put of plain mbufs without a call into the core. */
export class HostCache {
  // Fields are `declare`d: a class field without an initialiser would first be
  // defined as undefined (ES2022 semantics), and V8 would then type every one
  // of them as "any" and check it on each hot-path access (about 6 ns a pair).
  /** Handles kept at most; a free finding it full flushes half. */
  declare readonly size: number;
  /** Handles a refill asks for. */
  declare private readonly batch: number;
  /** The pool's memory (its buffer changes when memory grows). */
  declare private readonly memory: WebAssembly.Memory;
  /** The core's raw exports (refill, flush). */
  declare private readonly ex: CoreExports;
  /** Views over all of memory; renewed when memory grows (see view()). */
  declare private i32: Int32Array;
  /** The same memory as f64, for the zone's allocation and free counters. */
  declare private f64: Float64Array;
  /** Word index of the counters block's global part (census at +0, G_SEQ +24, G_OWNER +25, G_HCACHE_COUNT +60). */
  declare private readonly g: number;
  /** Word index of the host cache's entries. */
  declare private readonly entriesW: number;
  /** Word index of the page table (zone id | carved << 8 | scratch << 16 per page). */
  declare private readonly pageMetaW: number;
  /** f64 indices of the mbuf zone's allocation and free counters. */
  declare private readonly allocsD: number;
  declare private readonly freesD: number;
  /** Address of arena page 0. */
  declare private readonly arenaBase: number;
  /** Bytes of the arena thewall allows: pages past the carved ones have a zero page table entry. */
  declare private readonly arenaBytes: number;

  /**
   * @param stats address of the counters block; @param global offset of its global part.
   * @param size handles to keep at most (2 to the core's MB_HCACHE_CAP).
   */
  constructor(ex: CoreExports, memory: WebAssembly.Memory, stats: number, zoneBytes: number, global: number, size: number) {
    this.ex = ex;
    this.memory = memory;
    this.size = Math.max(2, Math.min(size, ex.MB_HCACHE_CAP.value));
    this.batch = this.size >>> 1;
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
    const g = stats + global, gw = g >>> 2;
    // The hot paths use these offsets from `g` as literals.
    if (GL.census !== 0 || GL.seq !== 24 * 4 || GL.owner !== 25 * 4 || GL.hcacheCount !== 60 * 4) {
      throw new Error("mbufpool: the host cache's counter offsets do not match src/core/layout.ts");
    }
    this.g = gw;
    this.entriesW = this.i32[gw + GL.hcacheAddr / 4] >>> 2;
    this.pageMetaW = this.i32[gw + GL.pageMeta / 4] >>> 2;
    this.arenaBase = this.i32[gw + GL.arenaBase / 4];
    this.arenaBytes = this.i32[gw + GL.maxPages / 4] * PAGE_SIZE;
    const zone = stats + zoneBytes * ZONE_MBUF;
    this.allocsD = (zone + Z.allocs) >>> 3;
    this.freesD = (zone + Z.frees) >>> 3;
  }

  /** Handles held now. */
  get count(): number {
    this.view();
    return this.i32[this.g + 60];
  }

  /**
   * An mbuf from the cache, initialised as mbuf_init does (no packet header).
   * @returns the handle, or 0 if the caller must take the core path (bad how
   *   or type, or nothing free without carving: the core decides and counts).
   */
  get(how: number, type: number): number {
    // valid_how and valid_type of the core ((M_NOWAIT or M_WAITOK) | optional M_RECV; 1..15).
    if ((((how & ~0x100) - 1) >>> 0) >= 2 || ((type - 1) >>> 0) >= 15) return 0;
    const u = this.i32, g = this.g;
    const n = u[g + 60] - 1;
    // Empty, or memory grew (a detached view reads undefined): the cold path.
    if (!(n >= 0)) return this.refill(how, type, 0);
    const m = u[this.entriesW + n];
    u[g + 60] = n; //                    G_HCACHE_COUNT
    // mbuf_init. m_next, m_nextpkt and the spare word are zero already: refill
    // clears them and put() keeps only mbufs where they are zero.
    const h = m >> 2;
    u[h + 2] = m + 32; //               m_data = m_dat (M_HDR_SIZE)
    u[h + 3] = 0; //                    m_len
    u[h + 4] = type; //                 m_type, m_flags = 0
    u[h + 5] = u[g + 25]; //            owner tag
    u[h + 6] = ++u[g + 24]; //         allocation sequence number
    u[g + type]++; //                    census
    this.f64[this.allocsD]++;
    return m;
  }

  /** As get(), with a packet header (m_gethdr). */
  gethdr(how: number, type: number): number {
    if ((((how & ~0x100) - 1) >>> 0) >= 2 || ((type - 1) >>> 0) >= 15) return 0;
    const u = this.i32, g = this.g;
    const n = u[g + 60] - 1;
    if (!(n >= 0)) return this.refill(how, type, 2);
    const m = u[this.entriesW + n];
    u[g + 60] = n; //                    G_HCACHE_COUNT
    const h = m >> 2;
    u[h + 2] = m + 40; //               m_data = m_pktdat (M_PKTHDR_SIZE)
    u[h + 3] = 0; //                    m_len
    u[h + 4] = type | 0x20000; //       m_type, m_flags = M_PKTHDR
    u[h + 5] = u[g + 25]; //            owner tag
    u[h + 6] = ++u[g + 24]; //         allocation sequence number
    u[h + 8] = 0; //                    pkthdr.len
    u[h + 9] = 0; //                    pkthdr.rcvif
    u[g + type]++; //                    census
    this.f64[this.allocsD]++;
    return m;
  }

  /** get() found the cache empty (or a stale view): renew the views, refill from the freelist, retry once. */
  private refill(how: number, type: number, flags: number): number {
    this.view();
    if (this.i32[this.g + 60] === 0 && this.ex.mb_cache_refill(this.batch) <= 0) return 0;
    this.view();
    if (this.i32[this.g + 60] === 0) return 0;
    return flags ? this.gethdr(how, type) : this.get(how, type);
  }

  /**
   * Frees `m` into the cache if it is a plain mbuf, after the core's handle checks.
   * @param m an i32 (the caller checked).
   * @returns 0 if freed, 1 if the core must free it (a cluster, a chain), or
   *   the core's error: EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  put(m: number): number {
    const u = this.i32, g = this.g;
    // check_mbuf: inside the arena and aligned; in an mbuf page (a page never
    // carved has a zero entry) and an item carved there; not free; not linked.
    const off = m - this.arenaBase;
    if ((off >>> 0) >= this.arenaBytes || (m & 255) !== 0) return -1001; // EBADHANDLE
    const meta = u[this.pageMetaW + (off >> 12)];
    if ((meta & 0xff) !== 1 /* ZONE_MBUF */ || ((off & 4095) >> 8) >= ((meta >> 8) & 0xff)) return this.notMbuf(m, meta);
    const h = m >> 2;
    const tf = u[h + 4]; // m_type | m_flags << 16
    // Anything but a plain mbuf in use (free, linked, a cluster, links) goes to
    // notPlain: the core's EDOUBLEFREE or EBUSY, or the core frees it.
    // NOT_PLAIN (0xffc9fff0); m_next | m_nextpkt | spare.
    if ((tf & 0xffc9fff0) !== 0 || tf === 0 || (u[h + 0] | u[h + 1] | u[h + 7]) !== 0) return notPlain(tf);
    const n = u[g + 60];
    if (n >= this.size) return this.flushHalf(m);
    // mbuf_free: census, MT_FREE, the zone's free counter.
    u[g + (tf & 0xf)]--;
    u[h + 4] = 0x10000000; // MT_FREE, M_HCACHED
    u[this.entriesW + n] = m;
    u[g + 60] = n + 1;
    this.f64[this.freesD]++;
    return 0;
  }

  /** put() found no mbuf item, or read through a stale view (undefined): renew and retry. */
  private notMbuf(m: number, meta: number | undefined): number {
    if (meta !== undefined) return EBADHANDLE;
    this.view();
    return this.put(m);
  }

  /** put() found the cache full: give half back to the core, then cache `m`. */
  private flushHalf(m: number): number {
    this.ex.mb_cache_flush(this.i32[this.g + 60] - this.batch);
    this.view();
    return this.put(m);
  }

  /** Gives every cached handle back to the core's freelist. */
  flush(): void {
    const n = this.count;
    if (n > 0) this.ex.mb_cache_flush(n);
  }

  /** Renews the views if memory grew (growing detaches the old buffer). */
  private view(): void {
    if (this.i32.buffer !== this.memory.buffer) {
      this.i32 = new Int32Array(this.memory.buffer);
      this.f64 = new Float64Array(this.memory.buffer);
    }
  }
}
