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
// cache holds as cache, the audit checks every entry, and an allocation the
// core makes on its own (getcl, chains, bulk calls) takes the whole cache
// back before it carves a page or counts a denial.
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

import type { CoreExports } from "./core/exports.js";
import { Z, GL } from "./core/layout.js";
import { ZONE_MBUF, M_PKTHDR, M_EOR, M_BCAST, M_MCAST, PAGE_SIZE } from "./constants.js";

/** Core error codes the checks give (assembly/constants.ts). */
const EBADHANDLE = -1001;
const EDOUBLEFREE = -1002;
const EBUSY = -16;
/** m_flags bits (assembly/constants.ts). */
const M_LINKED = 0x4000;
const M_HCACHED = 0x2000;
/** Flags an mbuf may carry and still be freed by the host: mbuf_free only clears them. */
const PLAIN_FLAGS = M_PKTHDR | M_EOR | M_BCAST | M_MCAST;
/** Header offsets, in 32-bit words (assembly/constants.ts). */
const W_NEXT = 0, W_NEXTPKT = 1, W_DATA = 2, W_LEN = 3, W_TYPEFLAGS = 4, W_OWNER = 5, W_SEQ = 6, W_SPARE = 7;
const W_PH_LEN = 8, W_PH_RCVIF = 9;
const M_HDR_SIZE = 32, M_PKTHDR_SIZE = 40;
/** Default number of handles the host keeps at most. */
export const HOST_CACHE_SIZE = 64;

export class HostCache {
  /** Handles kept at most; a free finding it full flushes half. */
  readonly size: number;
  /** Handles a refill asks for. */
  private readonly batch: number;
  private readonly memory: WebAssembly.Memory;
  private readonly ex: CoreExports;
  /** Views over all of memory; renewed when memory grows (see view()). */
  private i32: Int32Array;
  private f64: Float64Array;
  /** Word indices into memory of what the hot paths touch. */
  private readonly countW: number;
  private readonly entriesW: number;
  private readonly censusW: number;
  private readonly ownerW: number;
  private readonly seqW: number;
  private readonly pageMetaW: number;
  private readonly allocsD: number;
  private readonly freesD: number;
  private readonly arenaBase: number;
  /** Bytes of the arena thewall allows: pages past the carved ones have a zero page table entry. */
  private readonly arenaBytes: number;

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
    this.countW = gw + GL.hcacheCount / 4;
    this.entriesW = this.i32[gw + GL.hcacheAddr / 4] >>> 2;
    this.censusW = gw + GL.census / 4;
    this.ownerW = gw + GL.owner / 4;
    this.seqW = gw + GL.seq / 4;
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
    return this.i32[this.countW];
  }

  /**
   * An mbuf from the cache, initialised as mbuf_init does.
   * @param flags 0 or M_PKTHDR.
   * @returns the handle, or 0 if the caller must take the core path (bad how
   *   or type, or nothing free without carving: the core decides and counts).
   */
  get(how: number, type: number, flags: number): number {
    // valid_how and valid_type of the core; the core answers EINVAL for the rest.
    const w = how & 3;
    if ((how & ~0x103) !== 0 || (w !== 1 && w !== 2) || ((type - 1) >>> 0) >= 15) return 0;
    const u = this.i32;
    const n = u[this.countW] - 1;
    // Empty, or memory grew (a detached view reads undefined): the cold path.
    if (!(n >= 0)) return this.refill(how, type, flags);
    const m = u[this.entriesW + n];
    u[this.countW] = n;
    // mbuf_init. m_next, m_nextpkt and the spare word are zero already: refill
    // clears them and put() keeps only mbufs whose links are zero.
    const h = m >> 2;
    u[h + W_LEN] = 0;
    u[h + W_TYPEFLAGS] = type | (flags << 16);
    u[h + W_OWNER] = u[this.ownerW];
    const seq = u[this.seqW] + 1;
    u[this.seqW] = seq;
    u[h + W_SEQ] = seq;
    if (flags !== 0) {
      u[h + W_DATA] = m + M_PKTHDR_SIZE;
      u[h + W_PH_LEN] = 0;
      u[h + W_PH_RCVIF] = 0;
    } else {
      u[h + W_DATA] = m + M_HDR_SIZE;
    }
    u[this.censusW + type]++;
    this.f64[this.allocsD]++;
    return m;
  }

  /** get() found the cache empty (or a stale view): renew the views, refill from the freelist, retry once. */
  private refill(how: number, type: number, flags: number): number {
    this.view();
    if (this.i32[this.countW] === 0 && this.ex.mb_cache_refill(this.batch) <= 0) return 0;
    this.view();
    return this.i32[this.countW] > 0 ? this.get(how, type, flags) : 0;
  }

  /**
   * Frees `m` into the cache if it is a plain mbuf, after the core's handle checks.
   * @param m an i32 (the caller checked).
   * @returns 0 if freed, 1 if the core must free it (a cluster, a chain, a full
   *   cache), or the core's error: EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  put(m: number): number {
    const u = this.i32;
    // check_mbuf: inside the arena and aligned; in an mbuf page (a page never
    // carved has a zero entry); an item carved there; not free; not linked.
    const off = m - this.arenaBase;
    if (off < 0 || off >= this.arenaBytes || (m & 255) !== 0) return EBADHANDLE;
    const meta = u[this.pageMetaW + (off >> 12)];
    if (meta === undefined) return this.stale(m);
    if ((meta & 0xff) !== ZONE_MBUF || ((off & 4095) >> 8) >= ((meta >> 8) & 0xff)) return EBADHANDLE;
    const h = m >> 2;
    const tf = u[h + W_TYPEFLAGS];
    const type = tf & 0xffff;
    if (type === 0) return EDOUBLEFREE;
    if ((tf & (M_LINKED << 16)) !== 0) return EBUSY;
    // mbuf_free of anything but a plain mbuf (a cluster, links) is the core's.
    if ((tf & ~(PLAIN_FLAGS << 16 | 0xffff)) !== 0 || (u[h + W_NEXT] | u[h + W_NEXTPKT] | u[h + W_SPARE]) !== 0) return 1;
    const n = u[this.countW];
    if (n >= this.size) return this.flushHalf(m);
    // mbuf_free: census, MT_FREE, the zone's free counter.
    u[this.censusW + type]--;
    u[h + W_TYPEFLAGS] = M_HCACHED << 16;
    this.f64[this.freesD]++;
    u[this.entriesW + n] = m;
    u[this.countW] = n + 1;
    return 0;
  }

  /** put() read through a stale view: renew and retry. */
  private stale(m: number): number {
    this.view();
    return this.put(m);
  }

  /** put() found the cache full: give half back to the core, then cache `m`. */
  private flushHalf(m: number): number {
    this.ex.mb_cache_flush(this.i32[this.countW] - this.batch);
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
