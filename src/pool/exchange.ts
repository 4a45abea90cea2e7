// Host side of the chain operations: moving bytes between JS and chains
// through the core's data exchange area (a static buffer of a few KiB at a
// fixed address), looping for copies larger than the area, and walking a
// chain's segments as zero-copy views.
//
// Views into the core's memory (data(), apply()'s segments) go stale when
// linear memory grows (unless the pool is pinned: the old ArrayBuffer is
// detached and the view reads as empty), and when any operation changes the
// chain (its bytes may move, be freed or be reused).

import type { CoreExports } from "../core/exports.js";
import { H } from "../core/layout.js";
import { MbufError, coreError, describeValue } from "../errors.js";

/** Where the core's m_len lives in an mbuf header (checked against the core at boot). */
const M_LEN_OFF = H.len;

/** The data exchange area, re-viewed whenever memory grows. */
export class DataExchange {
  /**
   * True while a core call that may allocate holds bytes in the area: a drain
   * routine run from inside that allocation must not reuse it (EBUSY).
   */
  busy = false;
  private buf: Buffer;
  private pairs32: Int32Array;
  private heap: Int32Array;

  constructor(private readonly memory: WebAssembly.Memory, readonly addr: number, readonly cap: number) {
    this.buf = Buffer.alloc(0);
    this.pairs32 = new Int32Array(0);
    this.heap = new Int32Array(0);
    this.refresh();
  }

  private refresh(): void {
    const b = this.memory.buffer;
    this.buf = Buffer.from(b, this.addr, this.cap);
    this.pairs32 = new Int32Array(b, this.addr, this.cap >> 2);
    this.heap = new Int32Array(b);
  }

  /** Throws EBUSY if a drain routine tries to use the area while the call that ran it holds it. */
  check(call: string): void {
    if (this.busy) throw new MbufError("EBUSY", `${call}: a drain routine cannot move chain data while the operation that ran it holds the exchange area`);
  }

  // Growing memory detaches the views, and a detached view has length 0 (the area
  // and memory never do): testing the length spares the call into V8's runtime that
  // reading memory.buffer is, on every data operation.

  /** The area as a Buffer (for Buffer.copy without a subarray). */
  bytes(): Buffer {
    if (this.buf.length === 0) this.refresh();
    return this.buf;
  }

  /** The area as i32 (addr, len) pairs. */
  pairs(): Int32Array {
    if (this.pairs32.length === 0) this.refresh();
    return this.pairs32;
  }

  /** Linear memory's current buffer, without reading memory.buffer each time. */
  memoryBuffer(): ArrayBuffer {
    if (this.heap.length === 0) this.refresh();
    return this.heap.buffer as ArrayBuffer;
  }

  /** m_len of the mbuf at `m` (a handle the core has just validated). */
  mlen(m: number): number {
    if (this.heap.length === 0) this.refresh();
    return this.heap[(m + M_LEN_OFF) >> 2];
  }

  /** The i32 word at byte address `addr` (4-aligned, inside memory: an address the core returned). */
  word(addr: number): number {
    if (this.heap.length === 0) this.refresh();
    return this.heap[addr >> 2];
  }
}

/** Throws ERANGE unless `v` is an integer in [0, 2**31 - 1]; EINVAL if it is not an integer. */
export function checkRange(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new MbufError("EINVAL", `${name} must be an integer, got ${describeValue(v)}`);
  }
  if (v < 0 || v > 0x7fffffff) throw new MbufError("ERANGE", `${name} ${v} is outside the chain`);
  return v;
}

/** Copies `len` bytes from offset `off` of the chain of `m` into `out` at `outOff`. */
export function copyData(ex: CoreExports, dx: DataExchange, m: number, off: number, len: number,
  out: Uint8Array, outOff: number): void {
  if (len > dx.cap) {
    const total = ex.m_length(m);
    if (total < 0) throw coreError(total, "copydata", m);
    if (off > total || len > total - off) throw coreError(-34, "copydata", m);
  }
  dx.check("copydata");
  let done = 0;
  do {
    const n = Math.min(len - done, dx.cap);
    const r = ex.m_copydata(m, off + done, n, dx.addr);
    if (r < 0) throw coreError(r, "copydata", m);
    dx.bytes().copy(out, outOff + done, 0, n);
    done += n;
  } while (done < len);
}

/**
 * Writes `bytes` over offset `off` of the chain of head `m`; returns false if
 * buffers ran out (the chain unchanged). Larger than the exchange area: the
 * range is prepared (extended, unshared) in one all-or-nothing call first.
 */
export function copyBack(ex: CoreExports, dx: DataExchange, m: number, off: number, bytes: Uint8Array,
  how: number): boolean {
  dx.check("copyback");
  dx.busy = true;
  try {
    return copyBackHeld(ex, dx, m, off, bytes, how);
  } finally {
    dx.busy = false;
  }
}

function copyBackHeld(ex: CoreExports, dx: DataExchange, m: number, off: number, bytes: Uint8Array,
  how: number): boolean {
  const len = bytes.length;
  if (len <= dx.cap) {
    dx.bytes().set(bytes, 0);
    const r = ex.m_copyback(m, off, len, dx.addr, how);
    if (r < 0) throw coreError(r, "copyback", m);
    return r === 1;
  }
  if (off + len > 0x7fffffff) throw new MbufError("ERANGE", `copyback(${m}): offset + length overflow`);
  const p = ex.m_prepare(m, off, len, how);
  if (p < 0) throw coreError(p, "copyback", m);
  if (p === 0) return false;
  for (let done = 0; done < len; done += dx.cap) {
    const n = Math.min(len - done, dx.cap);
    dx.bytes().set(bytes.subarray(done, done + n), 0);
    const r = ex.m_copyback(m, off + done, n, dx.addr, how);
    if (r !== 1) throw coreError(r < 0 ? r : -1003, "copyback", m);
  }
  return true;
}

/**
 * m_apply: calls `fn(view, offset)` for each non-empty segment of
 * [off, off+len) of the chain of `m`, with a zero-copy view of its bytes and
 * its offset in the chain. Stops at the first non-zero result and returns it.
 */
export function applySegments(ex: CoreExports, dx: DataExchange, m: number,
  off: number, len: number, fn: (view: Uint8Array, offset: number) => number | void): number {
  const max = dx.cap >> 3;
  let pos = off, left = len;
  do {
    dx.check("apply");
    const n = ex.m_segments(m, pos, left, max);
    if (n < 0) throw coreError(n, "apply", m);
    // Copy the pairs out first: fn may call the pool, which reuses the area.
    const segs = dx.pairs().slice(0, n * 2);
    for (let i = 0; i < n; i++) {
      const a = segs[2 * i], l = segs[2 * i + 1];
      const r = fn(new Uint8Array(dx.memoryBuffer(), a, l), pos);
      if (r) return r;
      pos += l;
      left -= l;
    }
    if (n === 0) break;
  } while (left > 0);
  return 0;
}
