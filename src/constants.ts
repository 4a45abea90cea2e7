// Public constants with their mbuf(9) names and values, shared with the core.

/** mbuf types, 4.4BSD / RTEMS / FreeBSD 4 numbering. */
export const MT = {
  FREE: 0,
  DATA: 1,
  HEADER: 2,
  SOCKET: 3,
  PCB: 4,
  RTABLE: 5,
  HTABLE: 6,
  ATABLE: 7,
  SONAME: 8,
  SOOPTS: 10,
  FTABLE: 11,
  RIGHTS: 12,
  IFADDR: 13,
  CONTROL: 14,
  OOBDATA: 15,
} as const;
export type MbufType = (typeof MT)[keyof typeof MT];
/** Number of type slots in the census. */
export const MT_NTYPES = 16;

/** The census names of each type, as RTEMS prints them (index = type). */
export const MT_NAMES: readonly string[] = [
  "free", "data", "header", "socket", "pcb", "rtable", "htable", "atable",
  "soname", "type9", "soopts", "ftable", "rights", "ifaddr", "control", "oobdata",
];

/** m_flags. M_EXT and M_PKTHDR are set by the pool; M_EOR, M_BCAST, M_MCAST by the user. */
export const M_EXT = 0x0001;
export const M_PKTHDR = 0x0002;
export const M_EOR = 0x0004;
export const M_RDONLY = 0x0008;
export const M_BCAST = 0x0010;
export const M_MCAST = 0x0020;

/** Allocation flags: exactly one of M_NOWAIT / M_WAITOK, optionally | M_RECV. */
export const M_NOWAIT = 0x0001;
export const M_WAITOK = 0x0002;
/** The receive class: may take reserved clusters and wins waits (seed 003's flag). */
export const M_RECV = 0x0100;

/** Zone ids as the core numbers them. */
export const ZONE_MBUF = 1;
export const ZONE_CLUSTER = 2;
/** The packet zone's record (slot 3): its free count is the pairs parked in the packet cache. */
export const ZONE_PACKET = 3;
/** The jumbo zones (modern FreeBSD's mbuf_jumbo_page, mbuf_jumbo_9k, mbuf_jumbo_16k), slots 4 to 6. */
export const ZONE_JUMBOP = 4;
export const ZONE_JUMBO9 = 5;
export const ZONE_JUMBO16 = 6;

/** Sizes fixed by every profile. */
export const MSIZE = 256;
export const PAGE_SIZE = 4096;
/**
 * Jumbo cluster sizes, as <sys/mbuf.h>: for getjcl / cljget on the `freebsd` profile, whose
 * zones hold them (kern.ipc.nmbjumbop, nmbjumbo9, nmbjumbo16). On AIX, MJUMPAGESIZE is its MCLBYTES.
 */
export const MJUMPAGESIZE = 4096;
export const MJUM9BYTES = 9 * 1024;
export const MJUM16BYTES = 16 * 1024;
/** Data bytes in an mbuf without / with a packet header. */
export const MLEN = 224;
export const MHLEN = 216;

/** copym length meaning "to the end of the chain", as <sys/mbuf.h>. */
export const M_COPYALL = 1000000000;
