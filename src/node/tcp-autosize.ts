// Socket-buffer autosizing, as FreeBSD's net.inet.tcp.sendbuf_auto and
// recvbuf_auto: a connection whose socket buffer fills as fast as it drains
// gets a larger one, a step (sendbuf_inc, recvbuf_inc) at a time, up to
// sendbuf_max / recvbuf_max and to what sb_max (kern.ipc.maxsockbuf) lets
// sbreserve give. The growth shows in pool.sbstat(so, which).hiwat.
//
// FreeBSD grows the receive buffer when more than 7/8 of it arrived within
// one round trip (tcp_input.c), and the send buffer when it is 7/8 full while
// the peer's window would take more (tcp_output.c). The adapter sees neither
// round trips nor windows, so it uses what stands for them here:
//  - receive: more than 7/8 of the buffer was read from the kernel within
//    one turn of the event loop (the application then drains it). A reader
//    that stops reading never grows: reading stops with the buffer full, and
//    nothing more arrives in the next turns.
//  - send: a write completed (the kernel took it, so the peer's window was
//    open) while the buffer was 7/8 full and more waited to go in. A peer
//    that stops reading never completes writes, and never grows the buffer.
// Only the freebsd profile has these tunables: the older systems modelled
// (FreeBSD 4, RTEMS, AIX) had fixed socket buffers, and their connections
// keep theirs.

import type { Pool } from "../pool.js";

/** Grows a socket buffer of `so` by one step if autosizing allows; true if it grew. */
export function sbautosize(pool: Pool, so: number, which: "rcv" | "snd"): boolean {
  const t = pool.tunables, dir = which === "snd" ? "net.inet.tcp.sendbuf" : "net.inet.tcp.recvbuf";
  if (t[`${dir}_auto`] !== 1) return false;
  const hiwat = pool.sbstat(so, which).hiwat;
  const max = Math.min(t[`${dir}_max`], pool.sbHiwatMax);
  if (hiwat >= max) return false;
  return pool.sbreserve(so, which, Math.min(hiwat + t[`${dir}_inc`], max));
}

/** True if the pool's profile autosizes socket buffers (its tunables exist). */
export function autosizes(pool: Pool): boolean {
  return pool.tunables["net.inet.tcp.sendbuf_auto"] !== undefined;
}
