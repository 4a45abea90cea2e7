// Boot: the arena's memory sized for the most thewall may reach, one core
// instance over it, every layout fact the host relies on checked against the
// core, then mb_init and the boot-time carving of the profile.
//
// ╒══════════════════ linear memory (WebAssembly pages of 64 KiB) ═══════════════════╕
// │ static data (< STATIC_SLACK) │ page metadata (META_PER_PAGE x pages) │ arena pages  │
// └──────────────────────────────────────────────────────────────────────────────────┘
//   maximum = ceil((STATIC_SLACK + pages x META_PER_PAGE + PAGE_SIZE + pages x PAGE_SIZE [+ SHARED_TOP]) / 64 KiB)
//   where pages = floor(maxThewall / PAGE_SIZE); one spare page aligns the arena.
//
// A pinned pool grows memory to its maximum at creation, as pinned kernel
// memory: views into it never go stale. Otherwise memory starts at two
// WebAssembly pages and grows as the zones carve pages. A shared pool is pinned
// (a shared memory cannot move its buffer) and keeps the order of its waiters
// (waiting/order.ts), its packet zone's policy (pool/shared-packet-zone.ts),
// its tunables (pool/shared-tunables.ts), its thread area (the per-thread
// caches and lanes, assembly/cache.ts, lane.ts) and its lock words
// (pool/lock.ts) in the last bytes of memory, above the arena, where an
// instantiation never writes: its maximum has SHARED_TOP bytes more for them.

import { instantiateCore, type Build, type CoreImports } from "../core/module.js";
import { type CoreExports, INIT_PINNED, INIT_MBUF_GROWS, INIT_CLUSTER_GROWS } from "../core/exports.js";
import { Z, GL, H, PAGE_META, EXT_AT, THREADS, M_LINKED } from "../core/layout.js";
import { LOCK_BYTES, ESLOW, EBUSY_WRITER } from "./lock.js";
import { TUNABLES_BYTES } from "./shared-tunables.js";
import { PACKET_AREA_BYTES } from "./shared-packet-zone.js";
import { ORDER_AREA_BYTES } from "../waiting/order.js";
import { netmAreaAddr, NETM_AREA_BYTES } from "./shared-netm.js";
import { MbufError, coreError } from "../errors.js";
import { THEWALL_MAX, jumboOverflow, type Profile, type Layout } from "../tunables/profiles.js";
import {
  ZONE_MBUF, ZONE_CLUSTER, PAGE_SIZE, MSIZE, MLEN, MHLEN, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES,
} from "../constants.js";

/** Static data the core needs below the arena, with room to spare. */
export const STATIC_SLACK = 128 * 1024;
/** Page-table bytes per arena page (assembly/arena.ts META_BYTES_PER_PAGE). */
const META_PER_PAGE = 20;
/** Bytes of a WebAssembly memory page. */
const WASM_PAGE = 65536;

/** What boot asks for. */
export interface BootRequest {
  profile: Profile;
  layout: Layout;
  build: Build;
  /** The Pool option maxThewall, if given. */
  maxThewall: number | undefined;
  pinned: boolean;
  /** Over a shared memory (pinned), with the shared-* build. */
  shared: boolean;
  host: CoreImports;
}

/** A booted core: its exports, its memory, and where its shared areas are. */
export interface BootedCore {
  ex: CoreExports;
  memory: WebAssembly.Memory;
  /** Bytes thewall may be raised to (the room laid out). */
  maxThewall: number;
  /** Address of the counters block, bytes per zone record, offset of its global part. */
  statsAddr: number;
  zoneBytes: number;
  globalOff: number;
  /** Address and capacity (handles) of the bulk calls' exchange area. */
  xchgAddr: number;
  bulkMax: number;
  /** Address of the pool lock's words (a shared pool), else 0. */
  lockAddr: number;
}

/** The default maxThewall: room to raise thewall at run time on profiles that may (aix), else thewall. */
function defaultMaxThewall(profile: Profile, thewall: number): number {
  return profile.runtimeWall ? Math.min(THEWALL_MAX, Math.max(4 * thewall, 16 * 1024 * 1024)) : thewall;
}

/**
 * Sizes memory, instantiates the core and initialises its zones.
 * @throws MbufError ETUNABLE if the limits do not fit thewall, or maxThewall is outside [thewall, THEWALL_MAX];
 *   Error if the core's layout differs from the host's (a stale build).
 */
export function bootCore(req: BootRequest): BootedCore {
  const L = req.layout, mclbytes = req.profile.mclbytes;
  if (L.nmbufs * MSIZE > L.thewall || L.nmbclusters * mclbytes > L.thewall) {
    throw new MbufError("ETUNABLE",
      `the limits do not fit in the arena: ${L.nmbufs} mbufs and ${L.nmbclusters} clusters against ${L.thewall} bytes`);
  }
  const jumboMisfit = jumboOverflow(L);
  if (jumboMisfit) throw new MbufError("ETUNABLE", `the limits do not fit in the arena: ${jumboMisfit}`);
  const maxThewall = req.maxThewall ?? defaultMaxThewall(req.profile, L.thewall);
  if (!Number.isInteger(maxThewall) || maxThewall < L.thewall || maxThewall > THEWALL_MAX) {
    throw new MbufError("ETUNABLE", `maxThewall=${String(req.maxThewall)} refused: it must be an integer from thewall (${L.thewall} bytes) to ${THEWALL_MAX}`);
  }
  const maximum = memoryPages(maxThewall, req.shared);
  const pinned = req.pinned || req.shared;
  const memory = new WebAssembly.Memory({ initial: pinned ? maximum : 2, maximum, shared: req.shared });
  const ex = instantiateCore(req.build, memory, req.host, req.shared);
  checkLayout(ex);
  const flags = (pinned ? INIT_PINNED : 0) | (L.mbufGrows ? INIT_MBUF_GROWS : 0) | (L.clusterGrows ? INIT_CLUSTER_GROWS : 0);
  const r = ex.mb_init(maxThewall, Math.log2(mclbytes), L.nmbufs, L.nmbclusters, flags);
  if (r < 0) throw coreError(r, "mb_init");
  const w = ex.mb_set_wall(Math.floor(L.thewall / PAGE_SIZE));
  if (w < 0) throw coreError(w, "mb_set_wall");
  if (L.jumbo) {
    const j = ex.mb_jumbo_init(L.jumbo.page, L.jumbo.nine, L.jumbo.sixteen);
    if (j < 0) throw coreError(j, "mb_jumbo_init");
  }
  if (L.preallocMbufs) ex.mb_grow(ZONE_MBUF, L.preallocMbufs);
  if (L.preallocClusters) ex.mb_grow(ZONE_CLUSTER, L.preallocClusters);
  return describeCore(ex, memory, maxThewall, req.shared);
}

/** What a shared pool keeps above the arena: netm's books, the order of its waiters, its packet zone's policy, its tunables, its thread area (on a 64-byte line) and its lock words. */
const SHARED_TOP = NETM_AREA_BYTES + ORDER_AREA_BYTES + PACKET_AREA_BYTES + TUNABLES_BYTES + 64 + THREADS.BYTES + LOCK_BYTES;

/** WebAssembly pages of a memory laid out for `maxThewall` bytes (`shared`: with SHARED_TOP above): the maximum of the diagram above. */
export function memoryPages(maxThewall: number, shared: boolean): number {
  const pages = Math.floor(maxThewall / PAGE_SIZE);
  return Math.ceil((STATIC_SLACK + pages * META_PER_PAGE + PAGE_SIZE + pages * PAGE_SIZE + (shared ? SHARED_TOP : 0)) / WASM_PAGE);
}

/**
 * The BootedCore of an initialised instance; for a shared one, where its lock goes, after
 * checking that the static data ends below STATIC_SLACK and the arena below the lock words.
 * @throws Error if the layout breaks either (a core whose static data outgrew the slack).
 */
export function describeCore(ex: CoreExports, memory: WebAssembly.Memory, maxThewall: number, shared: boolean): BootedCore {
  const statsAddr = ex.MB_STATS.value, globalOff = ex.MB_GLOBAL.value;
  let lockAddr = 0;
  if (shared) {
    const u32 = new Uint32Array(memory.buffer, statsAddr + globalOff, GL.BYTES / 4);
    const arenaEnd = u32[GL.arenaBase / 4] + Math.floor(maxThewall / PAGE_SIZE) * PAGE_SIZE;
    lockAddr = memory.buffer.byteLength - LOCK_BYTES;
    if (u32[GL.pageMeta / 4] > STATIC_SLACK || arenaEnd > netmAreaAddr(lockAddr)) {
      throw new Error(`mbufpool: the core's static data (to ${u32[GL.pageMeta / 4]}) or arena (to ${arenaEnd}) leaves no room for the shared areas and the pool lock at ${netmAreaAddr(lockAddr)}`);
    }
  }
  return {
    ex, memory, maxThewall, statsAddr, zoneBytes: ex.MB_ZONE_BYTES.value, globalOff,
    xchgAddr: ex.MB_XCHG.value, bulkMax: ex.MB_XCHG_CAP.value, lockAddr,
  };
}

/**
 * Every layout fact the host restates, against the core's own exports: a core
 * built from other sources fails here, loudly, instead of being misread.
 */
export function checkLayout(ex: CoreExports): void {
  const facts: Array<[string, { value: number }, number]> = [
    ["MB_ZONE_BYTES", ex.MB_ZONE_BYTES, Z.BYTES],
    ["MB_GLOBAL_BYTES", ex.MB_GLOBAL_BYTES, GL.BYTES],
    ["MB_META_PER_PAGE", ex.MB_META_PER_PAGE, META_PER_PAGE],
    ["MB_MSIZE", ex.MB_MSIZE, MSIZE],
    ["MB_MLEN", ex.MB_MLEN, MLEN],
    ["MB_MHLEN", ex.MB_MHLEN, MHLEN],
    ["MB_PAGE_SIZE", ex.MB_PAGE_SIZE, PAGE_SIZE],
    ["MB_HDR_SIZE", ex.MB_HDR_SIZE, EXT_AT.plain], // == MSIZE - MLEN: the data area follows the header
    ["MB_PKTHDR_SIZE", ex.MB_PKTHDR_SIZE, EXT_AT.pkthdr], // == MSIZE - MHLEN
    ["MB_ZONE_SLOTS", ex.MB_ZONE_SLOTS, Z.SLOTS],
    ["MB_THREAD_AREA_BYTES", ex.MB_THREAD_AREA_BYTES, THREADS.BYTES],
    ["MB_LANE_HANDLES", ex.MB_LANE_HANDLES, THREADS.LANE_HANDLES],
    ["MB_LANE_DATA_BYTES", ex.MB_LANE_DATA_BYTES, THREADS.LANE_DATA_BYTES],
    ["MB_LANE_BYTES", ex.MB_LANE_BYTES, THREADS.LANE_BYTES],
    ["MB_ESLOW", ex.MB_ESLOW, ESLOW],
    ["MB_EBUSY_WRITER", ex.MB_EBUSY_WRITER, EBUSY_WRITER],
    ["MB_MJUMPAGESIZE", ex.MB_MJUMPAGESIZE, MJUMPAGESIZE],
    ["MB_MJUM9BYTES", ex.MB_MJUM9BYTES, MJUM9BYTES],
    ["MB_MJUM16BYTES", ex.MB_MJUM16BYTES, MJUM16BYTES],
    ["MB_M_NEXT", ex.MB_M_NEXT, H.next],
    ["MB_M_NEXTPKT", ex.MB_M_NEXTPKT, H.nextpkt],
    ["MB_M_DATA", ex.MB_M_DATA, H.data],
    ["MB_M_LEN", ex.MB_M_LEN, H.len],
    ["MB_M_TYPE", ex.MB_M_TYPE, H.type],
    ["MB_M_FLAGS", ex.MB_M_FLAGS, H.flags],
    ["MB_M_OWNER", ex.MB_M_OWNER, H.owner],
    ["MB_M_SEQ", ex.MB_M_SEQ, H.seq],
    ["MB_M_LINKED", ex.MB_M_LINKED, M_LINKED],
    ["MB_META_ZONE_MASK", ex.MB_META_ZONE_MASK, PAGE_META.zoneMask],
    ["MB_META_CARVED_SHIFT", ex.MB_META_CARVED_SHIFT, PAGE_META.carvedShift],
    ["MB_META_CARVED_MAX", ex.MB_META_CARVED_MAX, PAGE_META.carvedMask], // the host's mask is applied after the shift
  ];
  for (const [name, g, want] of facts) {
    if (g === undefined || g.value !== want) {
      throw new Error(`mbufpool: the core's ${name} is ${g?.value}, the host expects ${want} (rebuild with \`npm run build\`)`);
    }
  }
}
