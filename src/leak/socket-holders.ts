// A leak detector classifier that knows real socket buffers (seed 004:
// "a large number of mbufs queued at the socket layer because of an
// application defect" is not a leak). Given the sockets to watch, it names
// the holder of a free-standing chain: the socket's own mbuf and its PCB,
// and the first mbuf of each socket buffer (outstanding() follows the chain
// and the records from there). The set is read at every call, so sockets may
// be added and removed (before soclose) while a detector runs.

import type { HolderClassifier } from "./outstanding.js";

/** What the classifier reads of a pool: a socket's PCB and the first mbuf of each socket buffer. */
export interface SocketReader {
  sopcb(so: number): number;
  sbstat(so: number, which: "rcv" | "snd"): { mb: number };
}

/**
 * A classifier naming `sockbuf:so_rcv of socket S`, `sockbuf:so_snd of socket S` and
 * `socket S` (the socket structure and its PCB) for the sockets in `sockets`.
 * @param sockets live collection of socket handles (from socreate), read at every call;
 * a closed socket must leave it before the next call.
 * @param name how a socket is named in the holder (its handle by default).
 */
export function socketClassifier(pool: SocketReader, sockets: Iterable<number>,
  name: (so: number) => string = (so) => `socket ${so}`): HolderClassifier {
  return (m) => {
    for (const so of sockets) {
      if (m === so || m === pool.sopcb(so)) return name(so);
      if (m === pool.sbstat(so, "rcv").mb) return `sockbuf:so_rcv of ${name(so)}`;
      if (m === pool.sbstat(so, "snd").mb) return `sockbuf:so_snd of ${name(so)}`;
    }
    return undefined;
  };
}
