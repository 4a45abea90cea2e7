// Socket-buffer autosizing, as FreeBSD's net.inet.tcp.sendbuf_auto and
// recvbuf_auto: a connection whose socket buffer fills as fast as it drains
// gets a larger one, a step (sendbuf_inc, recvbuf_inc) at a time, up to
// sendbuf_max / recvbuf_max and to what sb_max (kern.ipc.maxsockbuf) lets
// sbreserve give. The growth shows in pool.sbstat(so, which).hiwat.
//
// FreeBSD grows the receive buffer when more than 3/8 of it arrived within
// half a round trip, by half its size (tcp_autorcvbuf in tcp_input.c; before
// FreeBSD 11, by recvbuf_inc once 7/8 arrived within a round trip), and the
// send buffer by sendbuf_inc when it is 7/8 full while the peer's window
// would take more (tcp_sndbuf_autoscale in tcp_output.c). The adapter sees
// neither round trips nor windows, so it uses what stands for them here:
//  - receive: more than 3/8 of the buffer was read from the kernel within
//    one turn of the event loop (the application then drains it); it grows
//    by half, and at least recvbuf_inc. A reader that stops reading grows at
//    most once: reading stops with the buffer full, and nothing more arrives
//    in the next turns.
//  - send: a write completed (the kernel took it, so the peer's window was
//    open) while the buffer was 7/8 full and more waited to go in; it grows
//    by half, and at least sendbuf_inc: one completion stands for the many
//    ACKs at each of which FreeBSD may add sendbuf_inc. A peer that stops
//    reading stops completing writes, and stops the growth.
//
// One rule of mbufpool's own: the growth of every connection of a pool
// together may promise at most a quarter of the pool's cluster bytes beyond
// the connections' starting sizes, and nothing grows while anyone waits in
// the pool's queue. FreeBSD's memory is the machine's; a pool is small and
// bounded, and without this rule the first busy connections grow buffers the
// pool cannot fill for everyone, and the others starve until they are
// dropped. A connection gives its growth back to the budget when it closes.
//
// Only the freebsd profile has these tunables: the older systems modelled
// (FreeBSD 4, RTEMS, AIX) had fixed socket buffers, and their connections
// keep theirs.

import type { Pool } from "../pool.js";

/** The tunables' names, made once (the checks run on hot paths). */
const SND = { auto: "net.inet.tcp.sendbuf_auto", inc: "net.inet.tcp.sendbuf_inc", max: "net.inet.tcp.sendbuf_max" } as const;
const RCV = { auto: "net.inet.tcp.recvbuf_auto", inc: "net.inet.tcp.recvbuf_inc", max: "net.inet.tcp.recvbuf_max" } as const;

/** Bytes of growth promised by the open connections of each pool. */
const promised = new WeakMap<Pool, { bytes: number }>();

/**
 * Grows a socket buffer of `so`, of size `hiwat` now, by one step if autosizing allows.
 * @returns the bytes it grew by (0: it did not); give them back with sbautosizeRelease on close.
 */
export function sbautosize(pool: Pool, so: number, which: "rcv" | "snd", hiwat: number): number {
  const t = pool.tunables, k = which === "snd" ? SND : RCV;
  if (t[k.auto] !== 1) return 0;
  const max = Math.min(t[k.max], pool.sbHiwatMax);
  if (hiwat >= max) return 0;
  let p = promised.get(pool);
  if (p === undefined) promised.set(pool, (p = { bytes: 0 }));
  const inc = Math.max(t[k.inc], hiwat >>> 1);
  const step = Math.min(hiwat + inc, max) - hiwat;
  if (p.bytes + step > (pool.layout.nmbclusters * pool.mclbytes) / 4 || pool.waiting > 0) return 0;
  if (!pool.sbreserve(so, which, hiwat + step)) return 0;
  p.bytes += step;
  return step;
}

/** A connection closed: the growth it had goes back to its pool's budget. */
export function sbautosizeRelease(pool: Pool, bytes: number): void {
  const p = promised.get(pool);
  if (p !== undefined) p.bytes = Math.max(0, p.bytes - bytes);
}

/** True if the pool's profile autosizes socket buffers (its tunables exist). */
export function autosizes(pool: Pool): boolean {
  return pool.tunables[SND.auto] !== undefined;
}
