// getcl+freem with the packet zone against getcl+freem through the two
// native zones (mbuf zone + cluster zone), side by side in each group.
// A hit takes one pre-joined pair (one pop, no attach); a miss pops an mbuf
// and a cluster and joins them. Both pools run with no balancing timer
// (interval 0): the measured loop is the hot path alone.

import { Pool } from "../../pool.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../../constants.js";
import type { BenchCase, BenchSuite } from "../types.js";

/** getcl+freem pairs per measured call. */
const N = 1000;
/** Packets held at once in the "in flight" group. */
const FLIGHT = 64;

/** A modern FreeBSD pool with or without the packet zone. */
function make(packet: boolean): Pool {
  return Pool.create({
    profile: "freebsd",
    tunables: { "kern.ipc.maxmbufmem": 16 << 20 },
    packetZone: packet ? { mode: "median", interval: 0 } : false,
  });
}

/** Audits and closes; throws if anything is out of place. */
function done(pool: Pool | undefined): void {
  if (!pool) return;
  pool.assertAudit();
  pool.close();
}

// Each case has its own loop literal: V8 shares feedback between closures of
// one literal, so two cases sharing a loop would measure each other's
// polymorphic call sites (the second case measured came out 1.5x slower).

/** The raw core exports of the pool each case measures. */
let nativeEx: Pool["core"];
let packetEx: Pool["core"];

/** One getcl+freem at a time, N times per call. */
function oneAtATime(packet: boolean, name: string, baseline: boolean, fn: () => void): BenchCase {
  let pool: Pool | undefined;
  return {
    group: "getcl+freem, one at a time",
    name,
    baseline,
    opsPerCall: N,
    setup() {
      pool = make(packet);
      pool.freem(pool.getcl()); // warm: carve the pages (and park the first pair)
      if (packet) packetEx = pool.core; else nativeEx = pool.core;
    },
    fn,
    teardown() {
      done(pool);
    },
  };
}

/** FLIGHT packets taken, then freed, N / FLIGHT times per call. */
const held = new Int32Array(FLIGHT);
const ROUNDS = Math.floor(N / FLIGHT);
function inFlight(packet: boolean, name: string, baseline: boolean, fn: () => void): BenchCase {
  let pool: Pool | undefined;
  return {
    group: `getcl+freem, ${FLIGHT} in flight`,
    name,
    baseline,
    opsPerCall: ROUNDS * FLIGHT,
    setup() {
      pool = make(packet);
      for (let i = 0; i < FLIGHT; i++) held[i] = pool.getcl();
      for (let i = 0; i < FLIGHT; i++) pool.freem(held[i]);
      if (packet) packetEx = pool.core; else nativeEx = pool.core;
    },
    fn,
    teardown() {
      done(pool);
    },
  };
}

/** The same in bulk: one core call takes FLIGHT packets, one frees them. */
function bulk(packet: boolean, name: string, baseline: boolean): BenchCase {
  let pool: Pool | undefined;
  const held = new Int32Array(FLIGHT);
  const rounds = Math.floor(N / FLIGHT);
  return {
    group: `getcl+freem, bulk of ${FLIGHT}`,
    name,
    baseline,
    opsPerCall: rounds * FLIGHT,
    setup() {
      pool = make(packet);
      pool.getBulk(held, FLIGHT, M_NOWAIT, MT.DATA, { cluster: true, pkthdr: true });
      pool.freemBulk(held);
    },
    fn() {
      const p = pool!;
      for (let r = 0; r < rounds; r++) {
        p.getBulk(held, FLIGHT, M_NOWAIT, MT.DATA, { cluster: true, pkthdr: true });
        p.freemBulk(held);
      }
    },
    teardown() {
      done(pool);
    },
  };
}

const cases: BenchCase[] = [
  oneAtATime(false, "mbufpool getcl+freem, native zones", true, () => {
    const ex = nativeEx;
    for (let i = 0; i < N; i++) ex.m_freem(ex.m_getcl(M_NOWAIT, MT.DATA, M_PKTHDR));
  }),
  oneAtATime(true, "mbufpool getcl+freem, packet zone", false, () => {
    const ex = packetEx;
    for (let i = 0; i < N; i++) ex.m_freem(ex.m_getcl(M_NOWAIT, MT.DATA, M_PKTHDR));
  }),
  inFlight(false, "mbufpool getcl+freem, native zones", true, () => {
    const ex = nativeEx;
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < FLIGHT; i++) held[i] = ex.m_getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      for (let i = 0; i < FLIGHT; i++) ex.m_freem(held[i]);
    }
  }),
  inFlight(true, "mbufpool getcl+freem, packet zone", false, () => {
    const ex = packetEx;
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < FLIGHT; i++) held[i] = ex.m_getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      for (let i = 0; i < FLIGHT; i++) ex.m_freem(held[i]);
    }
  }),
  bulk(false, "mbufpool getBulk+freemBulk, native zones", true),
  bulk(true, "mbufpool getBulk+freemBulk, packet zone", false),
];

/** This file's cases (they need no optional peer). */
export function packetSuite(): BenchSuite {
  return { cases };
}
