// The leak-hunting loop of seed 002: rounds of bursty traffic, then idle,
// with `netstat -m` read after each round, as rwatson's
//   while (1); netstat -m | grep mbuf; netperf -l 30; end
// Each step of a burst, a sender builds segments the way sosend did
// (m_get, then m_clget: two zones) and a receiver takes packets the way a
// driver does (m_getcl: the packet zone); everything stays in flight for one
// step, then is freed whole. Time runs on a VirtualClock, so the packet
// zone's balancing epochs fall between steps and through the idle time.

import type { Pool } from "../pool.js";
import type { VirtualClock } from "../clock.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../constants.js";
import { optionKeys, checkOptions } from "../validate.js";

/** The loop's shape. */
export interface NetperfOptions {
  /** Rounds of traffic (netperf runs). */
  rounds: number;
  /** Steps of traffic per round, and milliseconds per step. */
  steps: number;
  stepMs: number;
  /** Segments the sender builds per step (m_get + m_clget). */
  send: number;
  /** Packets the receiver takes per step (m_getcl). */
  receive: number;
  /** Idle milliseconds after each round's traffic. */
  idleMs: number;
}

/** What one round left behind. */
export interface NetperfRound {
  round: number;
  /** Modern `netstat -m` after the round and its idle time. */
  report: string;
  /** Clusters in use (honest: parked pairs are cache). */
  clustersInUse: number;
  /** Clusters out of the native cluster zone: in use plus parked (what 2005's netstat called in use). */
  clustersOut: number;
  /** Pairs parked in the packet cache. */
  parked: number;
  /** Requests that failed during the round. */
  failed: number;
  /** True once a sender could not get a cluster in this round. */
  wedged: boolean;
}

/** The defaults: a short netperf run, then three seconds idle. */
export const NETPERF_DEFAULTS: NetperfOptions = { rounds: 8, steps: 50, stepMs: 10, send: 2, receive: 8, idleMs: 3000 };

/**
 * Runs the loop on `pool`, whose clock must be `clock` (a VirtualClock, or
 * anything that moves the pool's clock forward, such as the simulator's run).
 * @param onRound called after each round (the CLI prints the report there).
 * @returns one record per round.
 */
/** Every key NetperfOptions has. */
const NETPERF_OPTION_KEYS = optionKeys<NetperfOptions>({ rounds: 1, steps: 1, stepMs: 1, send: 1, receive: 1, idleMs: 1 });

export function netperf(pool: Pool, clock: Pick<VirtualClock, "advance">, options: Partial<NetperfOptions> = {},
  onRound?: (r: NetperfRound) => void): NetperfRound[] {
  checkOptions(options, "netperf options", NETPERF_OPTION_KEYS);
  const o = { ...NETPERF_DEFAULTS, ...options };
  const rounds: NetperfRound[] = [];
  let held: number[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    let failed = 0;
    let wedged = false;
    for (let step = 0; step < o.steps; step++) {
      const next: number[] = [];
      for (let i = 0; i < o.send; i++) {
        const m = pool.get(M_NOWAIT, MT.DATA);
        if (m === 0) {
          failed++;
          continue;
        }
        if (pool.clget(m, M_NOWAIT)) next.push(m);
        else {
          pool.free(m);
          failed++;
          wedged = true;
        }
      }
      for (let i = 0; i < o.receive; i++) {
        const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
        if (m === 0) failed++;
        else next.push(m);
      }
      for (const m of held) pool.freem(m);
      held = next;
      clock.advance(o.stepMs);
    }
    for (const m of held) pool.freem(m);
    held = [];
    clock.advance(o.idleMs);
    const s = pool.stats();
    const r: NetperfRound = {
      round,
      report: pool.netstat({ format: "freebsd" }),
      clustersInUse: s.clusters.current,
      clustersOut: s.clusters.current + s.packets.cache,
      parked: s.packets.cache,
      failed,
      wedged,
    };
    rounds.push(r);
    onRound?.(r);
  }
  return rounds;
}
