// The core's ABI: re-exports only. Handles are byte addresses as i32 (0 is
// NULL); failures are negative error codes (constants.ts), never traps.

import { THREAD_AREA_BYTES, ESLOW, EBUSY_WRITER, LANE_HANDLES, LANE_DATA_BYTES, LANE_BYTES } from "./cache";
import {
  MSIZE, MLEN, MHLEN, PAGE_SIZE, M_HDR_SIZE, M_PKTHDR_SIZE, ZONE_SLOTS, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES,
  M_NEXT, M_NEXTPKT, M_DATA, M_LEN, M_TYPE, M_FLAGS, M_OWNER, M_SEQ, M_LINKED,
} from "./constants";
import { STATS, ZONE_BYTES, G_BYTES } from "./stats";
import { XCHG, XCHG_CAP } from "./bulk";
import {
  META_BYTES_PER_PAGE, META_ZONE_MASK, META_CARVED_SHIFT, META_CARVED_MAX, META_COUNT_SHIFT,
} from "./arena";
import { DXCHG, DXCHG_CAP } from "./chain_data";
import { SB_MAX } from "./sockbuf";

export {
  mb_init, m_get, m_gethdr, m_getcl, m_clget, m_free, m_freem, m_chtype, m_setflags,
  mb_set_owner, m_setowner, m_setowner_chain, mb_set_reserved, mb_set_reserve, mb_wait_failed,
} from "./mbuf";
export { m_get_bulk, m_freem_bulk, bulk_index } from "./bulk";
// A shared pool's per-thread lanes: the bulk calls and m_append as fast paths (lane.ts)
export { mb_lane, m_get_bulk_lane, m_freem_bulk_lane } from "./lane";
// Jumbo clusters (jumbo.ts)
export { mb_jumbo_init, m_getjcl, m_cljget } from "./jumbo";
export { mb_audit } from "./audit";
export { mb_grow, mb_reclaim, mb_set_limit, mb_set_wall, mb_attach, mb_thread_join, mb_thread_leave, mb_thread_reap, mb_fold } from "./manage";

// Chains (chain_data.ts, chain_copy.ts, chain_edit.ts)
export {
  m_length, m_copydata, m_prepare, m_copyback, m_append, m_getptr, m_aux, m_segments, m_mtod,
  m_leadingspace, m_trailingspace, m_writable,
} from "./chain_data";
export { m_copym, m_copypacket, m_dup, m_defrag } from "./chain_copy";
export { m_pullup, m_prepend, m_adj, m_cat, m_split } from "./chain_edit";
/** Address of the data exchange area (bytes for copydata/copyback, pairs for m_segments). */
export const MB_DXCHG: i32 = <i32>DXCHG;
/** Bytes the data exchange area holds. */
export const MB_DXCHG_CAP: i32 = DXCHG_CAP;

// Socket buffers (sockbuf.ts)
/** sb_max: most a socket buffer may reserve, in bytes of mbuf memory (kern.ipc.maxsockbuf). */
export const MB_SB_MAX: i32 = SB_MAX;
export {
  socreate, soclose, so_pcb, so_sockbuf, sbreserve, sbsetlowat, sbrelease, sbspace,
  sbappend, sbappendrecord, sb_write, sbdrop, sbdroprecord, sbflush,
} from "./sockbuf";

// Receive without a copy (recv.ts)
export { m_tailptr, m_commit } from "./recv";
export { sbtake } from "./sockbuf";

// Packet zone (packet.ts)
export { mb_packet_mode, mb_packet_refill, mb_packet_drain } from "./packet";


// Layout facts the host reads once at start-up.
/** Address of the counters block. */
export const MB_STATS: i32 = <i32>STATS;
/** Bytes of a shared pool's thread area (cache.ts), which the host lays out above the arena. */
export const MB_THREAD_AREA_BYTES: i32 = THREAD_AREA_BYTES;
/** Handles a thread's bulk lane carries (lane.ts). */
export const MB_LANE_HANDLES: i32 = LANE_HANDLES;
/** Bytes a thread's data lane carries. */
export const MB_LANE_DATA_BYTES: i32 = LANE_DATA_BYTES;
/** Bytes of a lane (its handles, then its data). */
export const MB_LANE_BYTES: i32 = LANE_BYTES;
/** The fast paths' answer when the host must take the pool lock and call again. */
export const MB_ESLOW: i32 = ESLOW;
/** The fast paths' answer when another thread holds the pool lock. */
export const MB_EBUSY_WRITER: i32 = EBUSY_WRITER;
/** Bytes per zone record in the counters block. */
export const MB_ZONE_BYTES: i32 = ZONE_BYTES;
/** Offset of the global part of the counters block. */
export const MB_GLOBAL: i32 = ZONE_BYTES * ZONE_SLOTS;
/** Size of the global part. */
export const MB_GLOBAL_BYTES: i32 = G_BYTES;
/** Address of the exchange area for bulk calls. */
export const MB_XCHG: i32 = <i32>XCHG;
/** Handles the exchange area holds. */
export const MB_XCHG_CAP: i32 = XCHG_CAP;
/** Metadata bytes per arena page. */
export const MB_META_PER_PAGE: i32 = META_BYTES_PER_PAGE;
/** Bytes of an mbuf. */
export const MB_MSIZE: i32 = MSIZE;
/** Data bytes of an mbuf without a packet header. */
export const MB_MLEN: i32 = MLEN;
/** Data bytes of an mbuf with a packet header. */
export const MB_MHLEN: i32 = MHLEN;
/** Bytes of an arena page. */
export const MB_PAGE_SIZE: i32 = PAGE_SIZE;
/** Zone records in the counters block (slots 0 and 7 unused; 4 to 6 the jumbo zones). */
export const MB_ZONE_SLOTS: i32 = ZONE_SLOTS;
/** Jumbo cluster sizes (jumbo.ts). */
export const MB_MJUMPAGESIZE: i32 = MJUMPAGESIZE;
export const MB_MJUM9BYTES: i32 = MJUM9BYTES;
export const MB_MJUM16BYTES: i32 = MJUM16BYTES;
/** Size of m_hdr. */
export const MB_HDR_SIZE: i32 = M_HDR_SIZE;
/** Size of m_hdr plus pkthdr. */
export const MB_PKTHDR_SIZE: i32 = M_PKTHDR_SIZE;

// The mbuf header (constants.ts), whose offsets the host restates.
/** Offset of m_next. */
export const MB_M_NEXT: i32 = M_NEXT;
/** Offset of m_nextpkt. */
export const MB_M_NEXTPKT: i32 = M_NEXTPKT;
/** Offset of m_data. */
export const MB_M_DATA: i32 = M_DATA;
/** Offset of m_len. */
export const MB_M_LEN: i32 = M_LEN;
/** Offset of m_type (u16). */
export const MB_M_TYPE: i32 = M_TYPE;
/** Offset of m_flags (u16). */
export const MB_M_FLAGS: i32 = M_FLAGS;
/** Offset of the owner tag. */
export const MB_M_OWNER: i32 = M_OWNER;
/** Offset of the allocation sequence number. */
export const MB_M_SEQ: i32 = M_SEQ;
/** M_LINKED, the internal flag of mbufs a socket holds (the host's threads fuzzer and freeOwned read it). */
export const MB_M_LINKED: i32 = M_LINKED;

// A page table entry (arena.ts), which the host decodes.
/** Zone id bits of an entry. */
export const MB_META_ZONE_MASK: i32 = META_ZONE_MASK;
/** Shift of the carved-items count. */
export const MB_META_CARVED_SHIFT: i32 = META_CARVED_SHIFT;
/** Mask of the carved-items count once shifted down. */
export const MB_META_CARVED_MAX: i32 = META_CARVED_MAX;
/** Shift of the scratch count (zero between calls). */
export const MB_META_COUNT_SHIFT: i32 = META_COUNT_SHIFT;
