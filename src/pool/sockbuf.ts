// Host side of sockets and socket buffers: the selector of a socket buffer
// and a snapshot of its fields, read from the core's memory without a call
// per field (the layout is assembly/sockbuf.ts's struct sockbuf).

import { MbufError } from "../errors.js";
import { optionKeys } from "../validate.js";

/** Which socket buffer of a socket: receive or send. */
export type SockbufName = "rcv" | "snd";

/** The fields of one socket buffer, as struct sockbuf names them. */
export interface SockbufStats {
  /** Data bytes held. */
  cc: number;
  /** Most data bytes (set by sbreserve). */
  hiwat: number;
  /** Storage charged: MSIZE per mbuf plus ext_size per cluster. */
  mbcnt: number;
  /** Most storage that may be charged. */
  mbmax: number;
  /** Low-water mark. */
  lowat: number;
  /** Handle of the first mbuf of the first record, 0 if empty (read it with copydata/apply). */
  mb: number;
  /** Handle of the first mbuf of the last record, 0 if empty. */
  lastrecord: number;
  /** Room left (sbspace). */
  space: number;
}

/** Options of Pool.socreate. */
export interface SocketOptions {
  /** Also allocate an MT_PCB mbuf as the protocol control block. */
  pcb?: boolean;
  /** sbreserve of the send buffer (32768 by default, as tcp_sendspace). */
  sndHiwat?: number;
  /** sbreserve of the receive buffer (65536 by default, as tcp_recvspace). */
  rcvHiwat?: number;
}

/** The core's selector for a socket buffer name. */
export function sbWhich(which: unknown): number {
  if (which === "rcv") return 0;
  if (which === "snd") return 1;
  throw new MbufError("EINVAL", `socket buffer must be "rcv" or "snd", got ${String(which)}`);
}

/** struct sockbuf field offsets (assembly/sockbuf.ts). */
export const SB = { mb: 0, lastrecord: 4, mbtail: 8, cc: 12, hiwat: 16, mbcnt: 20, mbmax: 24, lowat: 28 } as const;

/** Reads the socket buffer at address `sb` of `buffer`. */
export function readSockbuf(buffer: ArrayBuffer, sb: number, space: number): SockbufStats {
  const u = new Uint32Array(buffer, sb, 10);
  return {
    cc: u[SB.cc >> 2], hiwat: u[SB.hiwat >> 2], mbcnt: u[SB.mbcnt >> 2], mbmax: u[SB.mbmax >> 2],
    lowat: u[SB.lowat >> 2], mb: u[SB.mb >> 2], lastrecord: u[SB.lastrecord >> 2], space,
  };
}

/** Every key SocketOptions has. */
export const SOCKET_OPTION_KEYS = optionKeys<SocketOptions>({ pcb: 1, sndHiwat: 1, rcvHiwat: 1 });
