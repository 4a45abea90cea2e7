// Constants shared by every component of the core: sizes, the mbuf header
// layout, flags, types, allocation classes and error codes. Names follow
// mbuf(9) and <sys/mbuf.h> wherever the kernel has one.

// === Pages and items ===

/** Arena page: the unit zones take from and give back to the arena. */
// @ts-ignore: decorator
@inline export const PAGE_SHIFT: u32 = 12;
// @ts-ignore: decorator
@inline export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;
// @ts-ignore: decorator
@inline export const PAGE_MASK: u32 = PAGE_SIZE - 1;

/** Size of an mbuf, as FreeBSD's and AIX's MSIZE. */
// @ts-ignore: decorator
@inline export const MSIZE_SHIFT: u32 = 8;
// @ts-ignore: decorator
@inline export const MSIZE: u32 = 1 << MSIZE_SHIFT;
// @ts-ignore: decorator
@inline export const MSIZE_MASK: u32 = MSIZE - 1;
/** mbufs carved from one page. */
// @ts-ignore: decorator
@inline export const MBUFS_PER_PAGE: u32 = PAGE_SIZE >> MSIZE_SHIFT;

/** Smallest cluster size a profile may choose (MCLBYTES 2048). */
// @ts-ignore: decorator
@inline export const MCLSHIFT_MIN: u32 = 11;
/** Largest cluster size a profile may choose (one page, AIX's 4096). */
// @ts-ignore: decorator
@inline export const MCLSHIFT_MAX: u32 = PAGE_SHIFT;

/** Jumbo cluster sizes (FreeBSD's MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES): zones of their own (jumbo.ts). */
// @ts-ignore: decorator
@inline export const MJUMPAGESIZE: u32 = PAGE_SIZE;
// @ts-ignore: decorator
@inline export const MJUM9BYTES: u32 = 9 * 1024;
// @ts-ignore: decorator
@inline export const MJUM16BYTES: u32 = 16 * 1024;

/** Highest address a handle may have: handles are positive i32 values. */
// @ts-ignore: decorator
@inline export const ADDRESS_LIMIT: u64 = 0x8000_0000;

// === mbuf header, as 4.4BSD lays out struct mbuf (32-bit pointers) ===
//
// ╒═════════════════════════ struct mbuf (MSIZE = 256) ═══════════════════════╕
//    0        4          8       12      16     18      20      24       28
// ├────────┬─────────┬────────┬───────┬──────┬───────┬───────┬───────┬───────┤
// │ m_next │m_nextpkt│ m_data │ m_len │m_type│m_flags│ owner │  seq  │ spare │ m_hdr (32)
// ├────────┴─────────┴────────┴───────┴──────┴───────┴───────┴───────┴───────┤
// │ if M_PKTHDR: pkthdr.len (i32) │ pkthdr.rcvif (u32)                        │ 32..40
// ├───────────────────────────────────────────────────────────────────────────┤
// │ if M_EXT: ext_buf (u32) │ ext_size (u32)    at 32, or at 40 with M_PKTHDR │
// ├───────────────────────────────────────────────────────────────────────────┤
// │ m_dat: MLEN = 224 bytes, or m_pktdat: MHLEN = 216 bytes with M_PKTHDR     │
// └───────────────────────────────────────────────────────────────────────────┘
// A free mbuf keeps m_type = MT_FREE and reuses m_next as its freelist link.

/** Next mbuf of the same packet or record. */
// @ts-ignore: decorator
@inline export const M_NEXT: u32 = 0;
/** Next packet or record in a queue (socket buffer). */
// @ts-ignore: decorator
@inline export const M_NEXTPKT: u32 = 4;
/** Address of the first data byte. */
// @ts-ignore: decorator
@inline export const M_DATA: u32 = 8;
/** Bytes of data in this mbuf. */
// @ts-ignore: decorator
@inline export const M_LEN: u32 = 12;
/** mbuf type (MT_*), u16. */
// @ts-ignore: decorator
@inline export const M_TYPE: u32 = 16;
/** Flags (M_*), u16. */
// @ts-ignore: decorator
@inline export const M_FLAGS: u32 = 18;
/** Owner tag given by the host at allocation (leak reports). */
// @ts-ignore: decorator
@inline export const M_OWNER: u32 = 20;
/** Allocation sequence number (leak reports order by age). */
// @ts-ignore: decorator
@inline export const M_SEQ: u32 = 24;
/** Spare word: PKT_ORIGIN if the mbuf came out of the packet zone (packet.ts), else zero. */
// @ts-ignore: decorator
@inline export const M_SPARE: u32 = 28;
/** Size of m_hdr, where m_dat starts. */
// @ts-ignore: decorator
@inline export const M_HDR_SIZE: u32 = 32;
/** pkthdr.len: length of the whole packet. */
// @ts-ignore: decorator
@inline export const PH_LEN: u32 = 32;
/** pkthdr.rcvif: receiving interface index. */
// @ts-ignore: decorator
@inline export const PH_RCVIF: u32 = 36;
/** Size of m_hdr plus pkthdr, where m_pktdat starts. */
// @ts-ignore: decorator
@inline export const M_PKTHDR_SIZE: u32 = 40;
/** External storage descriptor offsets, relative to m_dat or m_pktdat. */
// @ts-ignore: decorator
@inline export const EXT_BUF: u32 = 0;
// @ts-ignore: decorator
@inline export const EXT_SIZE: u32 = 4;
/** Data bytes in an mbuf without a packet header. */
// @ts-ignore: decorator
@inline export const MLEN: u32 = MSIZE - M_HDR_SIZE;
/** Data bytes in an mbuf with a packet header. */
// @ts-ignore: decorator
@inline export const MHLEN: u32 = MSIZE - M_PKTHDR_SIZE;

// === m_flags (FreeBSD numbering) ===

/** Data lives in external storage (a cluster). */
// @ts-ignore: decorator
@inline export const M_EXT: u16 = 0x0001;
/** First mbuf of a packet: pkthdr is valid. */
// @ts-ignore: decorator
@inline export const M_PKTHDR: u16 = 0x0002;
/** End of record. */
// @ts-ignore: decorator
@inline export const M_EOR: u16 = 0x0004;
/** Associated data is read-only. */
// @ts-ignore: decorator
@inline export const M_RDONLY: u16 = 0x0008;
/** Sent or received as link-level broadcast. */
// @ts-ignore: decorator
@inline export const M_BCAST: u16 = 0x0010;
/** Sent or received as link-level multicast. */
// @ts-ignore: decorator
@inline export const M_MCAST: u16 = 0x0020;
/** Flags the host may set or clear with m_setflags. */
// @ts-ignore: decorator
@inline export const M_USER_FLAGS: u16 = M_EOR | M_BCAST | M_MCAST;
/** Internal: the mbuf holds a socket structure (sockbuf.ts); the host cannot set it. */
// @ts-ignore: decorator
@inline export const M_SOCK: u16 = 0x2000;
/** Internal: something else points at this mbuf (a chain or a socket buffer); not freeable alone. */
// @ts-ignore: decorator
@inline export const M_LINKED: u16 = 0x4000;
/** Internal: marked during a bulk free to catch a handle given twice. */
// @ts-ignore: decorator
@inline export const M_BULKMARK: u16 = 0x8000;

/** m_copym length meaning "to the end of the chain", as <sys/mbuf.h>. */
// @ts-ignore: decorator
@inline export const M_COPYALL: i32 = 1000000000;

// === m_type (4.4BSD / RTEMS / FreeBSD 4 numbering) ===

// @ts-ignore: decorator
@inline export const MT_FREE: u16 = 0;
// @ts-ignore: decorator
@inline export const MT_DATA: u16 = 1;
// @ts-ignore: decorator
@inline export const MT_HEADER: u16 = 2;
// @ts-ignore: decorator
@inline export const MT_SOCKET: u16 = 3;
// @ts-ignore: decorator
@inline export const MT_PCB: u16 = 4;
// @ts-ignore: decorator
@inline export const MT_OOBDATA: u16 = 15;
/** Number of type slots in the census. */
// @ts-ignore: decorator
@inline export const MT_NTYPES: u32 = 16;

// === Allocation flags (the `how` argument) ===

/** Do not wait: fail and count as denied. */
// @ts-ignore: decorator
@inline export const M_NOWAIT: i32 = 0x0001;
/** The caller will wait (in the host): count as delayed. */
// @ts-ignore: decorator
@inline export const M_WAITOK: i32 = 0x0002;
/** Allocation class: the receive path (may use reserved clusters). */
// @ts-ignore: decorator
@inline export const M_RECV: i32 = 0x0100;
// @ts-ignore: decorator
@inline export const M_HOW_MASK: i32 = M_NOWAIT | M_WAITOK;

// === Zones ===

// @ts-ignore: decorator
@inline export const ZONE_NONE: u32 = 0;
// @ts-ignore: decorator
@inline export const ZONE_MBUF: u32 = 1;
// @ts-ignore: decorator
@inline export const ZONE_CLUSTER: u32 = 2;
/** The packet zone: pre-joined mbuf+cluster pairs (packet.ts); owns no pages. */
// @ts-ignore: decorator
@inline export const ZONE_PACKET: u32 = 3;
/** The jumbo zones (jumbo.ts): page-size, 9k and 16k clusters, set up only by mb_jumbo_init. */
// @ts-ignore: decorator
@inline export const ZONE_JUMBOP: u32 = 4;
// @ts-ignore: decorator
@inline export const ZONE_JUMBO9: u32 = 5;
// @ts-ignore: decorator
@inline export const ZONE_JUMBO16: u32 = 6;
/**
 * Zone slots in the counters block: 0 is unused so a page's zone id 0 means
 * free, and 7 is unused too: eight 96-byte records keep the global block after
 * them on a 64-byte line, as it was with four (seven measured slower on the
 * getcl/freem path, whose census and sequence writes land there).
 */
// @ts-ignore: decorator
@inline export const ZONE_SLOTS: u32 = 8;

// === Error codes: negative i32 results, never traps ===

/** Bad argument (type, flag, size). */
// @ts-ignore: decorator
@inline export const EINVAL: i32 = -22;
/** Offset or length outside the chain. */
// @ts-ignore: decorator
@inline export const ERANGE: i32 = -34;
/** Not enough memory for the layout (init). */
// @ts-ignore: decorator
@inline export const ENOMEM: i32 = -12;
/** Not the handle of an mbuf: outside the arena, misaligned, or not in the mbuf zone. */
// @ts-ignore: decorator
@inline export const EBADHANDLE: i32 = -1001;
/** The mbuf is already free. */
// @ts-ignore: decorator
@inline export const EDOUBLEFREE: i32 = -1002;
/** The mbuf is held by a chain or socket buffer and cannot be freed or reused alone. */
// @ts-ignore: decorator
@inline export const EBUSY: i32 = -16;
/** The pool was used before mb_init, or initialised twice. */
// @ts-ignore: decorator
@inline export const ESTATE: i32 = -1003;
