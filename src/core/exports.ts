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
  m_free(m: number): number;
  m_freem(m: number): number;
  m_chtype(m: number, type: number): number;
  m_setflags(m: number, set: number, clear: number): number;
  mb_set_owner(tag: number): void;
  m_setowner(m: number, tag: number): number;
  mb_set_reserved(flag: number): void;
  mb_set_reserve(count: number): number;
  mb_wait_failed(zone: number): number;
  m_get_bulk(n: number, how: number, type: number, flags: number, cluster: number): number;
  m_freem_bulk(n: number): number;
  bulk_index(): number;
  mb_audit(): number;
  mb_grow(zone: number, want: number): number;
  mb_reclaim(zone: number, keep: number, maxPages: number): number;
  // Packet zone (assembly/packet.ts)
  mb_packet_mode(mode: number): number;
  mb_packet_refill(n: number): number;
  mb_packet_drain(n: number): number;
  mb_set_limit(zone: number, limit: number): number;
  mb_set_wall(pages: number): number;
  readonly MB_STATS: G;
  readonly MB_ZONE_BYTES: G;
  readonly MB_GLOBAL: G;
  readonly MB_GLOBAL_BYTES: G;
  readonly MB_XCHG: G;
  readonly MB_XCHG_CAP: G;
  readonly MB_META_PER_PAGE: G;
}

/** mb_init flags. */
export const INIT_PINNED = 1;
export const INIT_MBUF_GROWS = 2;
export const INIT_CLUSTER_GROWS = 4;
