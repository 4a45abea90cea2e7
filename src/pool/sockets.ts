// The socket layer of the facade: sockets, their two socket buffers, and
// receive without a copy (tailspace/commit/sbtake), as mbufpool/node uses
// them. A socket is an MT_SOCKET mbuf holding both socket buffers (and an
// MT_PCB mbuf if asked); `which` is "rcv" or "snd". A chain given to
// sbappend/sbappendrecord belongs to the socket buffer afterwards; soclose
// frees everything the socket holds.

import { MbufError, coreError, checkInt } from "../errors.js";
import { M_NOWAIT, MT, MSIZE } from "../constants.js";
import { checkOptions } from "../validate.js";
import { PoolBase, isInt, isHandle, ok } from "./base.js";
import { checkRange } from "./exchange.js";
import { sbWhich, readSockbuf, SOCKET_OPTION_KEYS, SB, type SockbufName, type SockbufStats, type SocketOptions } from "./sockbuf.js";

export abstract class PoolSockets extends PoolBase {
  // The chain calls sbwrite builds a large write with (Pool).
  abstract get(how?: number, type?: number): number;
  abstract copyback(m: number, off: number, bytes: Uint8Array, how?: number): boolean;
  abstract freem(m: number): void;

  // === Socket buffers ===
  //
  // A socket is an MT_SOCKET mbuf holding both socket buffers (and an MT_PCB mbuf if asked);
  // `which` is "rcv" or "snd". A chain given to sbappend/sbappendrecord belongs to the socket
  // buffer afterwards; soclose frees everything the socket holds.

  /**
   * The largest sb_hiwat sbreserve accepts: sb_max (kern.ipc.maxsockbuf, 256 KiB) scaled by
   * MCLBYTES / (MSIZE + MCLBYTES), as sbreserve(9) does (233016 bytes with 2 KiB clusters).
   * @throws MbufError ECLOSED on a closed pool (it has no socket buffers to size).
   */
  get sbHiwatMax(): number {
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    return Math.floor((this.ex.MB_SB_MAX.value * this.mclbytes) / (MSIZE + this.mclbytes));
  }

  /**
   * socreate: a socket with both socket buffers reserved (32768 send, 65536 receive by default).
   * @returns the socket handle, or 0 if buffers ran out (nothing kept).
   * On a shared pool the socket is the pool's: any thread may use or close it by its handle.
   * @throws MbufError EINVAL for bad options.
   */
  socreate(options: SocketOptions = {}, how: number = M_NOWAIT): number {
    checkOptions(options, "socreate options", SOCKET_OPTION_KEYS);
    if (!isInt(how)) throw this.argError("socreate", how, 0);
    const snd = checkInt(options.sndHiwat ?? 32768, "sndHiwat", 0, 0x7fffffff);
    const rcv = checkInt(options.rcvHiwat ?? 65536, "rcvHiwat", 0, 0x7fffffff);
    const so = this.ex.socreate(how, options.pcb ? 1 : 0);
    if (so < 0) throw coreError(so, "socreate");
    if (so === 0) return 0;
    if (this.ex.sbreserve(so, 1, snd) !== 1 || this.ex.sbreserve(so, 0, rcv) !== 1) {
      this.ex.soclose(so);
      throw new MbufError("EINVAL", `socreate: a reservation exceeds sb_max (send ${snd}, receive ${rcv})`);
    }
    return so;
  }

  /**
   * soclose: frees both socket buffers, the PCB and the socket (the drop of seed 003).
   * @throws MbufError EINVAL if `so` is not an open socket, EBADHANDLE, EDOUBLEFREE.
   */
  soclose(so: number): void {
    if (!isHandle(so)) throw this.badHandle("soclose", so);
    ok(this.ex.soclose(so), "soclose", so);
    this.returned();
  }

  /** The MT_PCB mbuf of socket `so`, or 0. @throws MbufError EINVAL, EBADHANDLE. */
  sopcb(so: number): number {
    if (!isHandle(so)) throw this.badHandle("sopcb", so);
    return ok(this.ex.so_pcb(so), "sopcb", so);
  }

  /**
   * sbreserve: sets sb_hiwat (and sb_mbmax = min(8 x hiwat, sb_max)).
   * @returns false if `cc` exceeds what sb_max allows (nothing changed).
   * @throws MbufError ERANGE, EINVAL, EBADHANDLE.
   */
  sbreserve(so: number, which: SockbufName, cc: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbreserve", so);
    checkRange(cc, "cc");
    return ok(this.ex.sbreserve(so, sbWhich(which), cc), "sbreserve", so) === 1;
  }

  /** Sets sb_lowat. @throws MbufError ERANGE unless 0 <= lowat <= sb_hiwat, EINVAL, EBADHANDLE. */
  sbsetlowat(so: number, which: SockbufName, lowat: number): void {
    if (!isHandle(so)) throw this.badHandle("sbsetlowat", so);
    checkRange(lowat, "lowat");
    ok(this.ex.sbsetlowat(so, sbWhich(which), lowat), "sbsetlowat", so);
  }

  /**
   * sbappend: gives the chain of head `m` to the last record of a socket buffer, compacting
   * small mbufs into trailing space (a new record after one ended with M_EOR). As in BSD's
   * sbcompress, mbufs that hold no data are freed rather than queued: a chain of no bytes is
   * freed whole and the call returns true.
   * @returns true (the chain is the socket's now, or was empty and freed), or false if its bytes
   *   exceed sbspace (`m` is still the caller's).
   * @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  sbappend(so: number, which: SockbufName, m: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbappend", so);
    if (!isHandle(m)) throw this.badHandle("sbappend", m);
    const r = ok(this.ex.sbappend(so, sbWhich(which), m), "sbappend", m);
    this.returned();
    return r === 1;
  }

  /** sbappendrecord: gives the chain of head `m` to a socket buffer as a new record (m_nextpkt). Results as sbappend(). */
  sbappendrecord(so: number, which: SockbufName, m: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbappendrecord", so);
    if (!isHandle(m)) throw this.badHandle("sbappendrecord", m);
    const r = ok(this.ex.sbappendrecord(so, sbWhich(which), m), "sbappendrecord", m);
    this.returned();
    return r === 1;
  }

  /**
   * sosend's copy: writes `bytes` into a socket buffer (trailing space first, then clusters),
   * all or nothing, in one core call per exchange-area load.
   * @returns true, or false if they exceed sbspace or buffers ran out (nothing written).
   * @throws MbufError EINVAL, EBADHANDLE.
   */
  sbwrite(so: number, which: SockbufName, bytes: Uint8Array, how: number = M_NOWAIT): boolean {
    if (!isHandle(so)) throw this.badHandle("sbwrite", so);
    if (!(bytes instanceof Uint8Array)) throw new MbufError("EINVAL", "sbwrite needs a Uint8Array");
    if (!isInt(how)) throw this.argError("sbwrite", so, how);
    const w = sbWhich(which);
    const dx = this.dataExchange();
    if (bytes.length > dx.cap) {
      // Larger than the exchange area: build the chain (all or nothing), then give it whole.
      if (bytes.length > this.sbspace(so, which)) return false;
      const m = this.get(how, MT.DATA);
      if (m === 0) return false;
      // The chain is ours until sbappend takes it: whatever fails or throws (a drain routine run
      // by copyback may close the socket), it is freed, never left behind.
      let given = false;
      try {
        given = this.copyback(m, 0, bytes, how) && this.sbappend(so, which, m);
      } finally {
        if (!given) this.freem(m);
      }
      return given;
    }
    dx.check("sbwrite");
    dx.bytes().set(bytes, 0);
    dx.busy = true;
    let r: number;
    try {
      r = this.ex.sb_write(so, w, bytes.length, how);
    } finally {
      dx.busy = false;
    }
    if (r < 0) throw coreError(r, "sbwrite", so);
    return r === 1;
  }

  /**
   * sbdrop: drops `len` bytes from the front of a socket buffer (acknowledged or read data).
   * @throws MbufError ERANGE if len exceeds sb_cc, EINVAL, EBADHANDLE.
   */
  sbdrop(so: number, which: SockbufName, len: number): void {
    if (!isHandle(so)) throw this.badHandle("sbdrop", so);
    checkRange(len, "length");
    ok(this.ex.sbdrop(so, sbWhich(which), len), "sbdrop", so);
    this.returned();
  }

  /** sbdroprecord: frees the first record. @returns false if the buffer was empty. @throws MbufError EINVAL, EBADHANDLE. */
  sbdroprecord(so: number, which: SockbufName): boolean {
    if (!isHandle(so)) throw this.badHandle("sbdroprecord", so);
    const r = ok(this.ex.sbdroprecord(so, sbWhich(which)), "sbdroprecord", so);
    this.returned();
    return r === 1;
  }

  /** sbflush: frees everything in a socket buffer (then sb_cc == 0 and sb_mb == 0). @throws MbufError EINVAL, EBADHANDLE. */
  sbflush(so: number, which: SockbufName): void {
    if (!isHandle(so)) throw this.badHandle("sbflush", so);
    ok(this.ex.sbflush(so, sbWhich(which)), "sbflush", so);
    this.returned();
  }

  /** sbrelease: sbflush, then sb_hiwat = sb_mbmax = 0. @throws MbufError EINVAL, EBADHANDLE. */
  sbrelease(so: number, which: SockbufName): void {
    if (!isHandle(so)) throw this.badHandle("sbrelease", so);
    ok(this.ex.sbrelease(so, sbWhich(which)), "sbrelease", so);
    this.returned();
  }

  /** sbspace: bytes a socket buffer may still take. @throws MbufError EINVAL, EBADHANDLE. */
  sbspace(so: number, which: SockbufName): number {
    if (!isHandle(so)) throw this.badHandle("sbspace", so);
    return ok(this.ex.sbspace(so, sbWhich(which)), "sbspace", so);
  }

  /** The fields of a socket buffer (sb_cc, sb_hiwat, sb_mbcnt, sb_mbmax, sb_lowat, sb_mb). @throws MbufError EINVAL, EBADHANDLE. */
  sbstat(so: number, which: SockbufName): SockbufStats {
    const space = this.sbspace(so, which);
    const sb = this.ex.so_sockbuf(so, sbWhich(which));
    return readSockbuf(this.dataExchange().memoryBuffer(), sb, space);
  }

  /** sb_cc: data bytes in a socket buffer, read with no object made (hot paths). @throws MbufError EINVAL, EBADHANDLE. */
  sbcc(so: number, which: SockbufName): number {
    return this.dataExchange().word(this.sockbufAt(so, which, "sbcc") + SB.cc);
  }

  /** sb_mb: the first mbuf of the first record, or 0 if empty; no object made. @throws MbufError EINVAL, EBADHANDLE. */
  sbmb(so: number, which: SockbufName): number {
    return this.dataExchange().word(this.sockbufAt(so, which, "sbmb") + SB.mb);
  }

  /** The address of a socket buffer of `so`, validated by the core. */
  private sockbufAt(so: number, which: SockbufName, call: string): number {
    if (!isHandle(so)) throw this.badHandle(call, so);
    return ok(this.ex.so_sockbuf(so, sbWhich(which)), call, so);
  }


  // === Receive without a copy (mbufpool/node) ===

  /**
   * A zero-copy view of the trailing space of the last mbuf of the chain of head `m`: a reader
   * writes into it, then commit() makes the bytes data. Empty if the cluster is shared.
   * The view goes stale when memory grows (unless the pool is pinned) and after any operation on the chain.
   * @throws MbufError EBADHANDLE, EDOUBLEFREE, EBUSY (not a head).
   */
  tailspace(m: number): Uint8Array {
    if (!isHandle(m)) throw this.badHandle("tailspace", m);
    const a = this.ex.m_tailptr(m);
    if (a < 0) throw coreError(a, "tailspace", m);
    return new Uint8Array(this.dataExchange().memoryBuffer(), a, this.ex.m_aux());
  }

  /**
   * m_commit: `len` bytes written into the trailing space (tailspace()) become data of the chain
   * of head `m`: m_len of its last mbuf and pkthdr.len grow by `len`, as if append() had copied them.
   * @throws MbufError ERANGE if `len` is negative or exceeds the trailing space, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  commit(m: number, len: number): void {
    if (!isHandle(m)) throw this.badHandle("commit", m);
    if (!isInt(len)) throw new MbufError(Number.isInteger(len) ? "ERANGE" : "EINVAL", `commit(${m}, ${String(len)}): bad length`);
    ok(this.ex.m_commit(m, len), "commit", m);
  }

  /**
   * sbtake: moves the longest run of whole mbufs (at most `max` bytes) from the front of the first
   * record of a socket buffer out, as a chain of the caller's, with no copy and no allocation.
   * @returns the chain's head, or 0 if the buffer is empty or its first mbuf holds more than `max`.
   * @throws MbufError ERANGE if max < 1, EINVAL, EBADHANDLE.
   */
  sbtake(so: number, which: SockbufName, max: number = 0x7fffffff): number {
    if (!isHandle(so)) throw this.badHandle("sbtake", so);
    checkRange(max, "max");
    return ok(this.ex.sbtake(so, sbWhich(which), max), "sbtake", so);
  }

}
