// One order for the waiters of every thread of a shared pool: receive class
// first, then arrival, as one thread's queue orders its own (queue.ts).
//
// A waiter takes a ticket when it queues: a counter in the shared memory,
// read and bumped under the pool lock. Its key is the ticket, plus RECV_SPAN
// outside the receive class, so a smaller key is an earlier waiter. Each
// thread keeps its waiters in its own heap, and publishes here, for each kind
// of need (a combination of zones: an mbuf; an mbuf and a cluster; a cluster;
// an mbuf and a jumbo cluster of one size), the key of its earliest waiter of
// that kind. The earliest is enough: waiters of one kind lack the same zones.
//
// The rule, checked by a thread's serve pass for each of its waiters: a
// waiter defers to an earlier waiter of another thread that needs one of its
// zones and that the pool can serve now; that thread serves it when it runs
// (its free path or its wake-up), then this one. A waiter the pool cannot
// serve blocks nobody but through the zone it lacks, which the later waiter
// then lacks too: the same rule as one thread's queue. In the handoff profile
// a new waiting request defers the same way before it tries the core, so a
// thread that frees and waits in a loop cannot pass another thread's waiter.
//
// No deferral waits forever. A thread records, in its record, which kinds of
// which thread it deferred to; a thread whose waiter of a kind left (served,
// timed out, closed), or whose pass found it lacking after all (another
// thread's allocation took the buffer first), wakes the threads that deferred
// to that kind, and they look again. A waiter that looks servable but whose
// attempt fails (a fragmented arena for a jumbo slab) wakes nobody, so two
// threads cannot wake each other in a loop; the next free wakes them anyway.
// The globally earliest waiter the pool can serve defers to nobody, so some
// thread always makes progress. A thread that is gone without closing its
// pool leaves its keys until reapThread clears them (and wakes the others).
//
// ╒═════════ order area (ORDER_AREA_BYTES, below the packet zone area) ═════════╕
// │ header line: next ticket (f64)                                              │
// ├──────────────────────────────────────────────────────────────────────────────┤
// │ slot 0: keys f64[KINDS] │ deferred to: u8[THREAD_SLOTS], a bit per kind     │
// │ slot 1 ... slot THREAD_SLOTS-1                         (ORDER_SLOT_BYTES)    │
// └──────────────────────────────────────────────────────────────────────────────┘
// A key of 0 is no waiter (tickets start at 1), so a zeroed area is empty.
// Read and written only under the pool lock: the lock orders them.

import { THREADS } from "../core/layout.js";
import { ZONE_JUMBOP } from "../constants.js";
import { packetAreaAddr } from "../pool/shared-packet-zone.js";

/** Zones a waiter may need: a bit each. */
export const NEED_MBUF = 1, NEED_CLUSTER = 2, NEED_JUMBO = 4; // NEED_JUMBO << j for jumbo size j
/** Kinds of waiter: get/gethdr, getcl, clget, then getjcl of each jumbo size j at KIND_JUMBO + j. */
export const KIND_MBUF = 0, KIND_PACKET = 1, KIND_CLUSTER = 2, KIND_JUMBO = 3;
/** The zones each kind of waiter needs. */
export const KIND_NEEDS: readonly number[] = [
  NEED_MBUF, NEED_MBUF | NEED_CLUSTER, NEED_CLUSTER, NEED_MBUF | NEED_JUMBO, NEED_MBUF | (NEED_JUMBO << 1), NEED_MBUF | (NEED_JUMBO << 2),
];
export const KINDS = KIND_NEEDS.length; // <= 8: a kind is a bit of a deferral byte
/** The jumbo zone a set of needs names (the core's zone id), 0 if none. */
export const jumboZoneOfNeeds = (needs: number): number =>
  needs & (NEED_JUMBO << 2) ? ZONE_JUMBOP + 2 : needs & (NEED_JUMBO << 1) ? ZONE_JUMBOP + 1 : needs & NEED_JUMBO ? ZONE_JUMBOP : 0;
/** Added to the ticket of a waiter outside the receive class: every receiver's key is smaller. */
export const RECV_SPAN = 2 ** 52;

const HEADER_BYTES = 64;
const ORDER_SLOT_BYTES = 128;
const KEYS_OFF = 0, DEFERRED_OFF = KINDS * 8; // DEFERRED_OFF + THREADS.SLOTS <= ORDER_SLOT_BYTES
/** Bytes of the order area. */
export const ORDER_AREA_BYTES = HEADER_BYTES + THREADS.SLOTS * ORDER_SLOT_BYTES;
/** Where the order area of a pool whose lock words are at `lockAddr` starts: below the packet zone area. */
export const orderAreaAddr = (lockAddr: number): number => packetAreaAddr(lockAddr) - ORDER_AREA_BYTES;

export class SharedOrder {
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  /** What foreign() found: (slot, kind, key) a waiter, reused from call to call. */
  readonly found = new Float64Array(THREADS.SLOTS * KINDS * 3);

  /** The area at `addr` of a shared pool's memory. */
  constructor(buffer: SharedArrayBuffer, addr: number) {
    this.f64 = new Float64Array(buffer, addr, ORDER_AREA_BYTES / 8);
    this.u8 = new Uint8Array(buffer, addr, ORDER_AREA_BYTES);
  }

  /** The key of a waiter queuing now (`recv`: of the receive class). */
  ticket(recv: boolean): number {
    const t = this.f64[0] + 1;
    this.f64[0] = t;
    return recv ? t : t + RECV_SPAN;
  }

  /**
   * Puts the earliest waiter of each kind of every other thread (slots below `high`) in
   * `found`, as (slot, kind, key) triples. @returns how many.
   */
  foreign(self: number, high: number): number {
    const out = this.found;
    let n = 0;
    for (let s = 0; s < high; s++) {
      if (s === self) continue;
      const base = this.keysAt(s);
      for (let k = 0; k < KINDS; k++) {
        const key = this.f64[base + k];
        if (key === 0) continue;
        out[n * 3] = s;
        out[n * 3 + 1] = k;
        out[n * 3 + 2] = key;
        n++;
      }
    }
    return n;
  }

  /**
   * Publishes slot `self`'s earliest keys and what it defers to (`deferred[s]`: a bit per
   * kind of slot s). @returns the kinds whose key changed (a bit each).
   */
  publish(self: number, keys: Float64Array, deferred: Uint8Array): number {
    const base = this.keysAt(self);
    let changed = 0;
    for (let k = 0; k < KINDS; k++) {
      if (this.f64[base + k] !== keys[k]) changed |= 1 << k;
      this.f64[base + k] = keys[k];
    }
    this.u8.set(deferred, this.deferredAt(self));
    return changed;
  }

  /** True if a thread below `high` other than `self` deferred to one of `kinds` (bits) of `self`. */
  deferredTo(self: number, high: number, kinds: number): boolean {
    if (kinds === 0) return false;
    for (let s = 0; s < high; s++) {
      if (s !== self && (this.u8[this.deferredAt(s) + self] & kinds) !== 0) return true;
    }
    return false;
  }

  /** Empties slot `s`'s record (its thread closed, or was reaped). */
  clear(s: number): void {
    const at = HEADER_BYTES + s * ORDER_SLOT_BYTES;
    this.u8.fill(0, at, at + ORDER_SLOT_BYTES);
  }

  private keysAt(s: number): number {
    return (HEADER_BYTES + s * ORDER_SLOT_BYTES + KEYS_OFF) / 8;
  }

  private deferredAt(s: number): number {
    return HEADER_BYTES + s * ORDER_SLOT_BYTES + DEFERRED_OFF;
  }
}
