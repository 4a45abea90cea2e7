// Socket buffers, as 4.4BSD's uipc_socket2.c keeps them: a queue of records
// linked through m_nextpkt, each record a chain through m_next, with the
// counters sb_cc (data bytes) and sb_mbcnt (MSIZE per mbuf plus ext_size per
// cluster) kept by sballoc/sbfree, and the limits sb_hiwat, sb_mbmax, sb_lowat.
//
// The socket itself (both socket buffers) lives in the data of an MT_SOCKET
// mbuf and its protocol control block can be an MT_PCB mbuf, so the type census
// shows them as BSD's did. The socket mbuf carries the internal flag M_SOCK (the
// host cannot set it) and a magic word; it and its PCB are held (hold_mbuf), so
// the host can neither free nor rewrite them except through soclose, and every
// mbuf inside a socket buffer is M_LINKED. soclose frees both socket buffers,
// the PCB and the socket: the drop the RTEMS seed (003) asked for, so a dropped
// connection can never keep its buffers.
//
// Appends refuse a chain larger than sbspace() (the caller keeps it), as
// sosend and sbappendaddr check space before they append.
//
// ╒═════════════ socket, in the data of an MT_SOCKET mbuf (m + 32) ═════════════╕
//    32       36      40       44..48   48 ........... 88 ........... 128
// ├────────┬───────┬────────┬────────┬────────────────┬────────────────┤
// │ magic  │ pcb   │ state  │ spare  │ so_rcv (40)    │ so_snd (40)    │ m_len = 96
// └────────┴───────┴────────┴────────┴────────────────┴────────────────┘
// ╒══════════════════════════ struct sockbuf (40 bytes) ══════════════════════════╕
//    0       4             8          12      16       20       24       28      32     36
// ├───────┬─────────────┬──────────┬───────┬────────┬────────┬────────┬───────┬──────┬──────┤
// │ sb_mb │sb_lastrecord│sb_mbtail │ sb_cc │sb_hiwat│sb_mbcnt│sb_mbmax│sb_lowat│flags │spare │
// └───────┴─────────────┴──────────┴───────┴────────┴────────┴────────┴───────┴──────┴──────┘

import {
  MSIZE, M_NEXTPKT, M_DATA, M_LEN, M_TYPE, M_FLAGS, M_EXT, M_EOR, M_SOCK, M_HDR_SIZE, EXT_SIZE,
  M_PKTHDR, PH_LEN,
  MT_SOCKET, MT_PCB, MT_DATA, MLEN, EINVAL, ERANGE,
} from "./constants";
import {
  clusterZone, check_mbuf, check_head, valid_how, m_get, mbuf_free, chain_free, hold_mbuf, unhold_mbuf,
} from "./mbuf";
import {
  mnext, mlen, mdata, mflags, mseq, ext_ptr, set_next, set_nextpkt, is_writable, trailing_space, demote,
} from "./header";
import { chain_length, alloc_room } from "./chain";
import { DXCHG, DXCHG_CAP } from "./chain_data";
import { RETRY, drain_mark, interrupted_give_back, retried } from "./drain";
import { gload, G_OWNER } from "./stats";

/** First mbuf of the first record (held), 0 if empty. */
// @ts-ignore: decorator
@inline export const SB_MB: u32 = 0;
/** First mbuf of the last record. */
// @ts-ignore: decorator
@inline export const SB_LASTRECORD: u32 = 4;
/** Last mbuf of the last record. */
// @ts-ignore: decorator
@inline export const SB_MBTAIL: u32 = 8;
/** Data bytes held. */
// @ts-ignore: decorator
@inline export const SB_CC: u32 = 12;
/** Most data bytes (sbreserve). */
// @ts-ignore: decorator
@inline export const SB_HIWAT: u32 = 16;
/** Storage charged: MSIZE per mbuf plus ext_size per cluster. */
// @ts-ignore: decorator
@inline export const SB_MBCNT: u32 = 20;
/** Most storage that may be charged. */
// @ts-ignore: decorator
@inline export const SB_MBMAX: u32 = 24;
/** Low-water mark. */
// @ts-ignore: decorator
@inline export const SB_LOWAT: u32 = 28;
/** Size of struct sockbuf (flags and a spare word after sb_lowat). */
// @ts-ignore: decorator
@inline export const SB_BYTES: u32 = 40;

/** Magic word of a socket ('SOCK'). */
// @ts-ignore: decorator
@inline export const SO_MAGIC: u32 = 0x534f434b;
// Socket fields, as offsets from the socket mbuf.
/** Magic word, SO_MAGIC while open. */
// @ts-ignore: decorator
@inline export const SO_MAGIC_OFF: u32 = M_HDR_SIZE;
/** The MT_PCB mbuf, or 0. */
// @ts-ignore: decorator
@inline export const SO_PCB: u32 = M_HDR_SIZE + 4;
/** Socket state word (spare). */
// @ts-ignore: decorator
@inline export const SO_STATE: u32 = M_HDR_SIZE + 8;
/** The receive socket buffer. */
// @ts-ignore: decorator
@inline export const SO_RCV: u32 = M_HDR_SIZE + 16;
/** The send socket buffer. */
// @ts-ignore: decorator
@inline export const SO_SND: u32 = SO_RCV + SB_BYTES;
/** Bytes of the socket structure (the socket mbuf's m_len). */
// @ts-ignore: decorator
@inline export const SO_BYTES: u32 = SO_SND + SB_BYTES - M_HDR_SIZE;

/** Which socket buffer: the receive one. */
// @ts-ignore: decorator
@inline export const SO_WHICH_RCV: i32 = 0;
/** Which socket buffer: the send one. */
// @ts-ignore: decorator
@inline export const SO_WHICH_SND: i32 = 1;
/** socreate flag: also allocate an MT_PCB mbuf as the protocol control block. */
// @ts-ignore: decorator
@inline export const SO_WITH_PCB: i32 = 1;
/** sb_max: most a socket buffer may reserve (kern.ipc.maxsockbuf, 256 KiB). */
// @ts-ignore: decorator
@inline export const SB_MAX: u32 = 256 * 1024;
/** sb_efficiency: sb_mbmax = sb_hiwat x this, capped at SB_MAX. */
// @ts-ignore: decorator
@inline export const SB_EFFICIENCY: u32 = 8;

// === Access ===

/** True if `so` is a socket made by socreate and still open. */
// @ts-ignore: decorator
@inline export function is_socket(so: usize): bool {
  return check_mbuf(so) == 0 && (mflags(so) & M_SOCK) != 0 && load<u32>(so, SO_MAGIC_OFF) == SO_MAGIC;
}

/** 0 if `so` is an open socket; else the handle's error, or EINVAL for an mbuf that is no socket. */
// @ts-ignore: decorator
@inline function socket_error(so: usize): i32 {
  if (is_socket(so)) return 0;
  let e = check_mbuf(so);
  return e ? e : EINVAL;
}

/** Address of socket buffer `which` of a valid socket, or 0 if `which` is bad. */
// @ts-ignore: decorator
@inline function sb_of(so: usize, which: i32): usize {
  if (which == SO_WHICH_RCV) return so + SO_RCV;
  if (which == SO_WHICH_SND) return so + SO_SND;
  return 0;
}

/** Reads field `f` of socket buffer `sb`. */
// @ts-ignore: decorator
@inline function sbget(sb: usize, f: u32): u32 { return load<u32>(sb + f); }
/** Writes field `f` of socket buffer `sb`. */
// @ts-ignore: decorator
@inline function sbset(sb: usize, f: u32, v: u32): void { store<u32>(sb + f, v); }

/** sb_mbcnt cost of one mbuf: MSIZE, plus ext_size with a cluster. */
// @ts-ignore: decorator
@inline export function mbcnt_of(m: usize): u32 {
  let flags = mflags(m);
  return (flags & M_EXT) ? MSIZE + load<u32>(ext_ptr(m, flags), EXT_SIZE) : MSIZE;
}

/** sballoc: accounts `m` to the socket buffer. */
// @ts-ignore: decorator
@inline function sballoc(sb: usize, m: usize): void {
  sbset(sb, SB_CC, sbget(sb, SB_CC) + mlen(m));
  sbset(sb, SB_MBCNT, sbget(sb, SB_MBCNT) + mbcnt_of(m));
}

/** sbfree: takes `m` out of the socket buffer's accounting. */
// @ts-ignore: decorator
@inline function sbfree(sb: usize, m: usize): void {
  sbset(sb, SB_CC, sbget(sb, SB_CC) - mlen(m));
  sbset(sb, SB_MBCNT, sbget(sb, SB_MBCNT) - mbcnt_of(m));
}

/** Sets sb_mb, moving the hold from the old first mbuf to the new one. */
function sb_setmb(sb: usize, m: usize): void {
  let old = <usize>sbget(sb, SB_MB);
  if (old == m) return;
  if (old) unhold_mbuf(old);
  if (m) hold_mbuf(m);
  sbset(sb, SB_MB, <u32>m);
}

/** sbspace: room left, min(hiwat - cc, mbmax - mbcnt), never negative. */
function space(sb: usize): u32 {
  let a = <i64>sbget(sb, SB_HIWAT) - <i64>sbget(sb, SB_CC);
  let b = <i64>sbget(sb, SB_MBMAX) - <i64>sbget(sb, SB_MBCNT);
  let s = min(a, b);
  return s > 0 ? <u32>s : 0;
}

// === Appending ===

/**
 * sbcompress: appends the chain `m` after mbuf `n` of the last record (n = 0:
 * the socket buffer is empty and `m` starts it), copying small mbufs into the
 * trailing space of `n` and dropping empty ones. Returns the new last mbuf.
 */
function sbcompress(sb: usize, m: usize, n: usize): usize {
  let eor: u16 = 0;
  while (m) {
    let mf = mflags(m);
    eor |= mf & M_EOR;
    let l = mlen(m);
    let o = mnext(m);
    if (!o) o = n;
    if (l == 0 && (eor == 0 || (o && load<u16>(o, M_TYPE) == load<u16>(m, M_TYPE)))) {
      // An empty mbuf goes; its M_EOR, if any, moves on to the record's last mbuf.
      m = mbuf_free(m);
      continue;
    }
    if (n && !(mflags(n) & M_EOR) && l <= (clusterZone.itemSize >> 2) && l <= trailing_space(n)
      && load<u16>(n, M_TYPE) == load<u16>(m, M_TYPE)) {
      memory.copy(mdata(n) + mlen(n), mdata(m), l);
      store<i32>(n, <i32>(mlen(n) + l), M_LEN);
      sbset(sb, SB_CC, sbget(sb, SB_CC) + l);
      m = mbuf_free(m);
      continue;
    }
    let rest = mnext(m);
    set_next(m, 0);
    if (n) {
      demote(m); // inside a record an mbuf is no packet's head: its header would outlive the data it counts
      set_next(n, m);
    } else {
      sb_setmb(sb, m);
      sbset(sb, SB_LASTRECORD, <u32>m);
    }
    sballoc(sb, m);
    store<u16>(m, mflags(m) & ~M_EOR, M_FLAGS);
    n = m;
    m = rest;
  }
  if (eor && n) store<u16>(n, mflags(n) | M_EOR, M_FLAGS);
  if (n) sbset(sb, SB_MBTAIL, <u32>n);
  return n;
}

/** sbappendrecord on checked arguments: `m0` starts a new record. */
function appendrecord(sb: usize, m0: usize): void {
  let last = <usize>sbget(sb, SB_LASTRECORD);
  sballoc(sb, m0);
  if (last) set_nextpkt(last, m0); else sb_setmb(sb, m0);
  sbset(sb, SB_LASTRECORD, <u32>m0);
  sbset(sb, SB_MBTAIL, <u32>m0);
  let m = mnext(m0);
  set_next(m0, 0);
  if (m && (mflags(m0) & M_EOR)) {
    store<u16>(m0, mflags(m0) & ~M_EOR, M_FLAGS);
    store<u16>(m, mflags(m) | M_EOR, M_FLAGS);
  }
  sbcompress(sb, m, m0);
}

/** Checks a socket, a socket-buffer selector and a chain to append; returns the sockbuf address or an error. */
function append_args(so: i32, which: i32, m: i32): i32 {
  let e = socket_error(<usize>so);
  if (e) return e;
  let sb = sb_of(<usize>so, which);
  if (!sb) return EINVAL;
  e = check_head(<usize>m);
  if (e) return e;
  return <i32>sb;
}

/**
 * sbappend: appends the chain of head `m` to the last record of socket buffer
 * `which` (0 receive, 1 send) of `so`, compacting into trailing space; a new record
 * if the last one ended with M_EOR. The socket buffer owns `m` afterwards.
 * Returns 1, 0 if the chain's bytes exceed sbspace (nothing done, `m` still
 * the caller's), EINVAL for a bad socket or selector, or a handle error for `m`.
 */
export function sbappend(so: i32, which: i32, m: i32): i32 {
  let r = append_args(so, which, m);
  if (r < 0) return r;
  let sb = <usize>r;
  if (chain_length(<usize>m) > space(sb)) return 0;
  let tail = <usize>sbget(sb, SB_MBTAIL);
  if (tail && (mflags(tail) & M_EOR)) appendrecord(sb, <usize>m);
  else sbcompress(sb, <usize>m, tail);
  return 1;
}

/** sbappendrecord: appends the chain of head `m` as a new record. Results as sbappend. */
export function sbappendrecord(so: i32, which: i32, m: i32): i32 {
  let r = append_args(so, which, m);
  if (r < 0) return r;
  let sb = <usize>r;
  if (chain_length(<usize>m) > space(sb)) return 0;
  appendrecord(sb, <usize>m);
  return 1;
}

/**
 * sb_write: writes `len` bytes from the start of the data exchange area into socket
 * buffer `which` of `so`, as sosend does: into the trailing space of the last
 * mbuf, then into new clusters (one small mbuf for a short rest), all or nothing.
 * Returns 1, 0 if the bytes exceed sbspace or buffers ran out (nothing done),
 * EINVAL for a bad socket, selector, length or how, EDOUBLEFREE if a drain
 * routine closed the socket meanwhile (even if it opened another at its address).
 */
export function sb_write(so: i32, which: i32, len: i32, how: i32): i32 {
  let r = sb_write_once(so, which, len, how);
  return r != RETRY ? r : retried(sb_write_once(so, which, len, how));
}

/** One attempt of sb_write: RETRY or EDOUBLEFREE if a drain routine ran during its allocations (drain.ts). */
function sb_write_once(so: i32, which: i32, len: i32, how: i32): i32 {
  let e = socket_error(<usize>so);
  if (e) return e;
  let sb = sb_of(<usize>so, which);
  if (!sb || !valid_how(how)) return EINVAL;
  if (len < 0 || <u32>len > DXCHG_CAP) return EINVAL;
  let n = <u32>len;
  if (n > space(sb)) return 0;
  let tail = <usize>sbget(sb, SB_MBTAIL);
  let room: u32 = 0;
  if (tail && !(mflags(tail) & M_EOR) && load<u16>(tail, M_TYPE) == MT_DATA && is_writable(tail)) room = trailing_space(tail);
  let k = min(room, n);
  let rem = n - k;
  let add: usize = 0;
  if (rem) {
    let d0 = drain_mark(), s0 = mseq(<usize>so);
    add = alloc_room(rem, false, how, MT_DATA, gload(G_OWNER));
    if (!add) return 0;
    let lost = interrupted_give_back(d0, <usize>so, s0, add);
    if (lost) return lost;
  }
  let src = DXCHG;
  if (k) {
    memory.copy(mdata(tail) + mlen(tail), src, k);
    store<i32>(tail, <i32>(mlen(tail) + k), M_LEN);
    sbset(sb, SB_CC, sbget(sb, SB_CC) + k);
    src += k;
  }
  if (add) {
    let first = add;
    let cl = clusterZone.itemSize;
    let x = add, last = add;
    while (x) {
      let c = min((mflags(x) & M_EXT) ? cl : MLEN, rem);
      memory.copy(mdata(x), src, c);
      store<i32>(x, <i32>c, M_LEN);
      src += c; rem -= c;
      sballoc(sb, x);
      last = x;
      x = mnext(x);
    }
    if (tail && !(mflags(tail) & M_EOR)) {
      set_next(tail, first);
    } else if (tail) {
      set_nextpkt(<usize>sbget(sb, SB_LASTRECORD), first);
      sbset(sb, SB_LASTRECORD, <u32>first);
    } else {
      sb_setmb(sb, first);
      sbset(sb, SB_LASTRECORD, <u32>first);
    }
    sbset(sb, SB_MBTAIL, <u32>last);
  }
  return 1;
}

// === Dropping ===

/** sbdrop on checked arguments: drops `len` (<= sb_cc) bytes from the front. */
function drop(sb: usize, len: u32): void {
  let m = <usize>sbget(sb, SB_MB);
  if (!m) return;
  let lastrec = <usize>sbget(sb, SB_LASTRECORD);
  let lastGone = false;
  sb_setmb(sb, 0);
  let next = <usize>load<u32>(m, M_NEXTPKT);
  set_nextpkt(m, 0);
  if (m == lastrec) lastGone = true;
  while (len) {
    if (!m) {
      // The first record is used up: go on with the next one.
      m = next;
      if (!m) break;
      next = <usize>load<u32>(m, M_NEXTPKT);
      set_nextpkt(m, 0);
      if (m == lastrec) lastGone = true;
      continue;
    }
    let l = mlen(m);
    if (l > len) {
      store<u32>(m, <u32>(mdata(m) + len), M_DATA);
      store<i32>(m, <i32>(l - len), M_LEN);
      sbset(sb, SB_CC, sbget(sb, SB_CC) - len);
      break;
    }
    len -= l;
    sbfree(sb, m);
    m = mbuf_free(m);
  }
  while (m && mlen(m) == 0) {
    sbfree(sb, m);
    m = mbuf_free(m);
  }
  if (m) {
    set_nextpkt(m, next);
    sb_setmb(sb, m);
  } else {
    sb_setmb(sb, next);
  }
  let mb = <usize>sbget(sb, SB_MB);
  if (!mb) {
    sbset(sb, SB_LASTRECORD, 0);
    sbset(sb, SB_MBTAIL, 0);
  } else if (lastGone) {
    sbset(sb, SB_LASTRECORD, <u32>mb);
  }
}

/**
 * sbtake: soreceive's move of whole mbufs out of socket buffer `which`: the
 * longest run of mbufs at the front of the first record holding at most `max`
 * bytes leaves the socket buffer, unchanged and uncopied, as a chain of its own
 * (the caller frees it). Nothing is allocated, so a reader can always drain a
 * socket buffer however exhausted the pool is. A head with a packet header gets
 * pkthdr.len = the bytes taken.
 * Returns the chain's head, 0 if the buffer is empty or its first mbuf holds
 * more than `max` bytes, ERANGE if max < 1, EINVAL for a bad socket or selector.
 */
export function sbtake(so: i32, which: i32, max: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  if (max < 1) return ERANGE;
  let sb = <usize>r;
  let m = <usize>sbget(sb, SB_MB);
  if (!m) return 0;
  let taken: u32 = 0, last: usize = 0, x = m;
  while (x && taken + mlen(x) <= <u32>max) { taken += mlen(x); last = x; x = mnext(x); }
  if (!last) return 0;
  let lastrec = <usize>sbget(sb, SB_LASTRECORD);
  let next = <usize>load<u32>(m, M_NEXTPKT);
  set_nextpkt(m, 0);
  sb_setmb(sb, 0);
  for (let y = m; ; y = mnext(y)) {
    sbfree(sb, y);
    if (y == last) break;
  }
  set_next(last, 0);
  if (x) {
    set_nextpkt(x, next);
    sb_setmb(sb, x);
    if (lastrec == m) sbset(sb, SB_LASTRECORD, <u32>x);
  } else {
    sb_setmb(sb, next);
    if (!next) {
      sbset(sb, SB_LASTRECORD, 0);
      sbset(sb, SB_MBTAIL, 0);
    }
  }
  if (mflags(m) & M_PKTHDR) store<i32>(m, <i32>taken, PH_LEN);
  return <i32>m;
}

/** sbdroprecord on a checked socket buffer: frees the first record. Returns true if there was one. */
function droprecord(sb: usize): bool {
  let m = <usize>sbget(sb, SB_MB);
  if (!m) return false;
  let next = <usize>load<u32>(m, M_NEXTPKT);
  set_nextpkt(m, 0);
  sb_setmb(sb, 0);
  while (m) {
    sbfree(sb, m);
    m = mbuf_free(m);
  }
  sb_setmb(sb, next);
  if (!next) {
    sbset(sb, SB_LASTRECORD, 0);
    sbset(sb, SB_MBTAIL, 0);
  }
  return true;
}

/** sbflush on a checked socket buffer: frees every record; sb_cc and sb_mbcnt end at 0. */
function flush(sb: usize): void {
  while (droprecord(sb)) {}
}

/** Checks a socket and selector; returns the sockbuf address, or EINVAL / a handle error. */
function sb_arg(so: i32, which: i32): i32 {
  let e = socket_error(<usize>so);
  if (e) return e;
  let sb = sb_of(<usize>so, which);
  return sb ? <i32>sb : EINVAL;
}

/** sbdrop: drops `len` bytes from the front of socket buffer `which`. Returns 0, ERANGE if len < 0 or > sb_cc, EINVAL. */
export function sbdrop(so: i32, which: i32, len: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  let sb = <usize>r;
  if (len < 0 || <u32>len > sbget(sb, SB_CC)) return ERANGE;
  drop(sb, <u32>len);
  return 0;
}

/** sbdroprecord: frees the first record of socket buffer `which`. Returns 1, 0 if it was empty, or EINVAL. */
export function sbdroprecord(so: i32, which: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  return droprecord(<usize>r) ? 1 : 0;
}

/** sbflush: frees everything in socket buffer `which`. Returns 0 or EINVAL. */
export function sbflush(so: i32, which: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  flush(<usize>r);
  return 0;
}

/** sbspace: bytes socket buffer `which` may still take. Returns them or EINVAL. */
export function sbspace(so: i32, which: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  return <i32>space(<usize>r);
}

/**
 * sbreserve: sets sb_hiwat to `cc` and sb_mbmax to min(cc x 8, sb_max); lowers
 * sb_lowat to fit. Returns 1, 0 if cc exceeds sb_max x MCLBYTES / (MSIZE + MCLBYTES)
 * (nothing changed), ERANGE for a negative cc, EINVAL.
 */
export function sbreserve(so: i32, which: i32, cc: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  if (cc < 0) return ERANGE;
  let sb = <usize>r;
  let cl = <u64>clusterZone.itemSize;
  if (<u64>cc > <u64>SB_MAX * cl / (<u64>MSIZE + cl)) return 0;
  sbset(sb, SB_HIWAT, <u32>cc);
  sbset(sb, SB_MBMAX, <u32>min(<u64>cc * SB_EFFICIENCY, <u64>SB_MAX));
  if (sbget(sb, SB_LOWAT) > <u32>cc) sbset(sb, SB_LOWAT, <u32>cc);
  return 1;
}

/** Sets sb_lowat of socket buffer `which`. Returns 0, ERANGE unless 0 <= lowat <= sb_hiwat, EINVAL. */
export function sbsetlowat(so: i32, which: i32, lowat: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  let sb = <usize>r;
  if (lowat < 0 || <u32>lowat > sbget(sb, SB_HIWAT)) return ERANGE;
  sbset(sb, SB_LOWAT, <u32>lowat);
  return 0;
}

/** sbrelease: sbflush, then sb_hiwat = sb_mbmax = 0. Returns 0 or EINVAL. */
export function sbrelease(so: i32, which: i32): i32 {
  let r = sb_arg(so, which);
  if (r < 0) return r;
  let sb = <usize>r;
  flush(sb);
  sbset(sb, SB_HIWAT, 0);
  sbset(sb, SB_MBMAX, 0);
  return 0;
}

/** Address of socket buffer `which` of `so` (the host reads its fields), or EINVAL / a handle error. */
export function so_sockbuf(so: i32, which: i32): i32 {
  return sb_arg(so, which);
}

/** The PCB mbuf of `so`, 0 if none, or EINVAL / a handle error. */
export function so_pcb(so: i32): i32 {
  let e = socket_error(<usize>so);
  if (e) return e;
  return <i32>load<u32>(<usize>so, SO_PCB);
}

// === Sockets ===

/**
 * socreate: a socket in an MT_SOCKET mbuf (with an MT_PCB mbuf if `flags` has
 * SO_WITH_PCB); both socket buffers empty with nothing reserved, sb_lowat 1 for
 * receive and MCLBYTES for send (clamped by sbreserve). Returns the socket handle,
 * 0 if buffers ran out (nothing kept), or EINVAL.
 */
export function socreate(how: i32, flags: i32): i32 {
  if (!valid_how(how) || (flags & ~SO_WITH_PCB)) return EINVAL;
  let r = m_get(how, MT_SOCKET);
  if (r <= 0) return r;
  let so = <usize>r;
  let pcb: usize = 0;
  if (flags & SO_WITH_PCB) {
    hold_mbuf(so); // a drain routine run by the next allocation cannot free it
    let p = m_get(how, MT_PCB);
    unhold_mbuf(so);
    if (p <= 0) {
      mbuf_free(so);
      return p;
    }
    pcb = <usize>p;
  }
  memory.fill(so + M_HDR_SIZE, 0, SO_BYTES);
  store<u32>(so, SO_MAGIC, SO_MAGIC_OFF);
  store<u32>(so, <u32>pcb, SO_PCB);
  store<u32>(so + SO_RCV, 1, SB_LOWAT);
  store<u32>(so + SO_SND, clusterZone.itemSize, SB_LOWAT);
  store<i32>(so, <i32>SO_BYTES, M_LEN);
  store<u16>(so, mflags(so) | M_SOCK, M_FLAGS);
  hold_mbuf(so);
  if (pcb) hold_mbuf(pcb);
  return <i32>so;
}

/**
 * soclose (sofree after tcp_drop): releases both socket buffers, frees the PCB
 * and the socket mbuf. Every mbuf the socket held goes back.
 * Returns 0, EINVAL if `so` is not an open socket, or a handle error.
 */
export function soclose(so: i32): i32 {
  let e = socket_error(<usize>so);
  if (e) return e;
  let s = <usize>so;
  sbrelease(so, SO_WHICH_RCV);
  sbrelease(so, SO_WHICH_SND);
  let pcb = <usize>load<u32>(s, SO_PCB);
  if (pcb) {
    unhold_mbuf(pcb);
    chain_free(pcb);
  }
  store<u32>(s, 0, SO_MAGIC_OFF);
  store<u16>(s, mflags(s) & ~M_SOCK, M_FLAGS);
  unhold_mbuf(s);
  mbuf_free(s);
  return 0;
}
