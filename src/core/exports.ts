// The typed interface over the core's raw exports (assembly/index.ts).
// Hot paths call these functions directly: no loader wrapper in between.

/** A Wasm global as JS sees it. */
interface G { readonly value: number }

/** The raw exports of the core module. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  mb_init(thewall: number, clshift: number, nmbufs: number, nmbclusters: number, flags: number): number;
  m_get(how: number, type: number): number;
  m_gethdr(how: number, type: number): number;
  m_getcl(how: number, type: number, flags: number): number;
  m_clget(m: number, how: number): number;
  // Jumbo clusters (assembly/jumbo.ts)
  mb_jumbo_init(page: number, nine: number, sixteen: number): number;
  m_getjcl(how: number, type: number, flags: number, size: number): number;
  m_cljget(m: number, how: number, size: number): number;
  m_free(m: number): number;
  m_freem(m: number): number;
  m_chtype(m: number, type: number): number;
  m_setflags(m: number, set: number, clear: number): number;
  mb_set_owner(tag: number): void;
  /** Retags every mbuf of a chain; the count or a handle error. */
  m_setowner_chain(m: number, tag: number): number;
  m_setowner(m: number, tag: number): number;
  mb_set_reserved(flag: number): void;
  mb_set_reserve(count: number): number;
  mb_wait_failed(zone: number): number;
  m_get_bulk(n: number, how: number, type: number, flags: number, cluster: number): number;
  m_freem_bulk(n: number): number;
  bulk_index(): number;
  /** This thread's lane of a shared pool (assembly/lane.ts), 0 without one. */
  mb_lane(): number;
  /** m_get_bulk into this thread's lane (at most LANE_HANDLES): the count, or EINVAL. */
  m_get_bulk_lane(n: number, how: number, type: number, flags: number, cluster: number): number;
  /** m_freem_bulk of the lane's first n handles: n, a handle error (bulk_index()), or EINVAL. */
  m_freem_bulk_lane(n: number): number;
  mb_audit(): number;
  mb_grow(zone: number, want: number): number;
  mb_reclaim(zone: number, keep: number, maxPages: number): number;
  /** Re-reads this instance's arena state from memory (a shared pool's second instance); 0 or ESTATE. */
  mb_attach(): number;
  /** Makes this instance the thread of a slot of a shared pool's thread area (assembly/cache.ts); 0 or EINVAL. */
  mb_thread_join(area: number, slot: number, waiters: number, tag: number): number;
  /** Gives this thread's caches back and frees its slot. */
  mb_thread_leave(): void;
  /** Gives a gone thread's caches back and frees its slot; the items moved, EINVAL or ESTATE. */
  mb_thread_reap(slot: number): number;
  /** Folds the threads' counters into the counters block. */
  mb_fold(): void;
  // Packet zone (assembly/packet.ts)
  mb_packet_mode(mode: number): number;
  mb_packet_refill(n: number): number;
  mb_packet_drain(n: number): number;
  mb_set_limit(zone: number, limit: number): number;
  mb_set_wall(pages: number): number;
  // Chains (assembly/chain_data.ts, chain_copy.ts, chain_edit.ts)
  m_length(m: number): number;
  m_copydata(m: number, off: number, len: number, dst: number): number;
  m_prepare(m: number, off: number, len: number, how: number): number;
  m_copyback(m: number, off: number, len: number, src: number, how: number): number;
  m_append(m: number, len: number, src: number, how: number): number;
  m_copym(m: number, off: number, len: number, how: number): number;
  m_copypacket(m: number, how: number): number;
  m_dup(m: number, how: number): number;
  m_defrag(m: number, how: number): number;
  m_pullup(m: number, n: number, how: number): number;
  m_prepend(m: number, len: number, how: number): number;
  m_adj(m: number, req: number): number;
  m_cat(m: number, n: number): number;
  m_split(m: number, len0: number, how: number): number;
  m_getptr(m: number, off: number): number;
  m_aux(): number;
  m_segments(m: number, off: number, len: number, max: number): number;
  m_mtod(m: number): number;
  m_leadingspace(m: number): number;
  m_trailingspace(m: number): number;
  m_writable(m: number): number;
  readonly MB_DXCHG: G;
  readonly MB_DXCHG_CAP: G;
  // Socket buffers (assembly/sockbuf.ts)
  readonly MB_SB_MAX: G;
  socreate(how: number, flags: number): number;
  soclose(so: number): number;
  so_pcb(so: number): number;
  so_sockbuf(so: number, which: number): number;
  sbreserve(so: number, which: number, cc: number): number;
  sbsetlowat(so: number, which: number, lowat: number): number;
  sbrelease(so: number, which: number): number;
  sbspace(so: number, which: number): number;
  sbappend(so: number, which: number, m: number): number;
  sbappendrecord(so: number, which: number, m: number): number;
  sb_write(so: number, which: number, len: number, how: number): number;
  sbdrop(so: number, which: number, len: number): number;
  sbdroprecord(so: number, which: number): number;
  sbflush(so: number, which: number): number;
  // Receive without a copy (assembly/recv.ts)
  m_tailptr(m: number): number;
  m_commit(m: number, len: number): number;
  sbtake(so: number, which: number, max: number): number;
  readonly MB_STATS: G;
  readonly MB_THREAD_AREA_BYTES: G;
  readonly MB_LANE_HANDLES: G;
  readonly MB_LANE_DATA_BYTES: G;
  readonly MB_LANE_BYTES: G;
  readonly MB_ESLOW: G;
  readonly MB_EBUSY_WRITER: G;
  readonly MB_ZONE_BYTES: G;
  readonly MB_GLOBAL: G;
  readonly MB_GLOBAL_BYTES: G;
  readonly MB_XCHG: G;
  readonly MB_XCHG_CAP: G;
  readonly MB_META_PER_PAGE: G;
  readonly MB_MSIZE: G;
  readonly MB_MLEN: G;
  readonly MB_MHLEN: G;
  readonly MB_PAGE_SIZE: G;
  readonly MB_HDR_SIZE: G;
  readonly MB_ZONE_SLOTS: G;
  readonly MB_MJUMPAGESIZE: G;
  readonly MB_MJUM9BYTES: G;
  readonly MB_MJUM16BYTES: G;
  readonly MB_PKTHDR_SIZE: G;
  // mbuf header offsets (the host's H in layout.ts)
  readonly MB_M_NEXT: G;
  readonly MB_M_NEXTPKT: G;
  readonly MB_M_DATA: G;
  readonly MB_M_LEN: G;
  readonly MB_M_TYPE: G;
  readonly MB_M_FLAGS: G;
  readonly MB_M_OWNER: G;
  readonly MB_M_SEQ: G;
  readonly MB_M_LINKED: G;
  // Page table entry (the host's PAGE_META in layout.ts; carvedMask is MB_META_CARVED_MAX)
  readonly MB_META_ZONE_MASK: G;
  readonly MB_META_CARVED_SHIFT: G;
  readonly MB_META_CARVED_MAX: G;
  readonly MB_META_COUNT_SHIFT: G;
}

/** mb_init flags. */
export const INIT_PINNED = 1;
export const INIT_MBUF_GROWS = 2;
export const INIT_CLUSTER_GROWS = 4;
