// Scenario `packet-zone` (seed 002): FreeBSD -CURRENT in December 2005 under
// rwatson's leak hunt,
//   while (1); netstat -m | grep mbuf; netperf -l 30; end
// Rounds of bursty traffic (senders building segments with m_get + m_clget,
// a driver taking packets with m_getcl), then idle, with the modern
// `netstat -m` after each round. The loop itself is src/netperf.ts; here it
// runs on the simulator's clock, one round at a time with a burst shape drawn
// from the seed, so the packet zone's balancing epochs fall between steps and
// through the idle time.
//
// Without balancing (mode `none`, the 2005 code) every pair a free parks stays
// parked: the clusters out of their zone ("in use" to 2005's netstat) grow
// round after round until the cluster zone is empty and senders wedge. With
// the seed's median balancing, the cache goes back whole once idle epochs are
// the median, and usage returns to its baseline after every round.

import { Pool } from "../../pool.js";
import { netperf, type NetperfRound } from "../../workloads/netperf.js";
import type { PacketMode } from "../../packet-zone.js";
import { Simulator } from "../engine.js";
import { Recorder } from "../recorder.js";
import { closeClean } from "../finish.js";
import type { Scenario, VariantResult } from "../types.js";
import { variantScenario } from "./variants.js";

/** netperf runs in the loop. */
const ROUNDS = 8;
/** The pool: 512 clusters, so the slow "leak" wedges within a few rounds (25600 in the seed). */
const NMBCLUSTERS = 512;
const MAXMBUFMEM = 4 << 20;
/** Packet-zone balancing epoch (ms): ten per second, so a round's idle time holds many epochs. */
const EPOCH = 100;
/** Rounds of strictly growing usage before the wedge that make it a slow leak, not a burst. */
const MIN_GROWING = 2;

/** The usage lines `netstat -m | grep mbuf` shows of a modern report (mbufs, clusters, packet zone). */
const grepMbuf = (report: string): string[] => report.split("\n").filter((l) => l.includes("mbuf") && l.includes("in use"));

function runVariant(seed: number, mode: PacketMode, expect: "fails" | "holds",
  progress?: (f: number) => void): VariantResult {
  const sim = new Simulator(seed);
  const pool = Pool.create({
    profile: "freebsd", clock: sim,
    tunables: { "kern.ipc.maxmbufmem": MAXMBUFMEM, "kern.ipc.nmbclusters": NMBCLUSTERS },
    packetZone: { mode, interval: EPOCH },
  });
  const rng = sim.rng;
  const advance = { advance: (ms: number): void => sim.run(sim.now() + ms) };
  const out = (): number => {
    const s = pool.stats();
    return s.clusters.current + s.packets.cache;
  };
  const rec = new Recorder(sim, pool, () => ({
    "pairs parked": pool.stats().packets.cache,
    "clusters out of their zone": out(),
  }), (x) => x["clusters out of their zone"]);
  rec.start(250);

  const log: string[] = [];
  const rounds: NetperfRound[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Each netperf run has its own burst shape: senders and receive rate vary with the seed.
    const [r] = netperf(pool, advance, {
      rounds: 1, steps: rng.int(40, 60), stepMs: 10, send: rng.int(1, 3), receive: rng.int(6, 10), idleMs: 3000,
    });
    rounds.push({ ...r, round });
    log.push(`round ${round}${r.wedged ? " (senders wedged)" : ""}: ${grepMbuf(r.report).join(" | ")}`);
    progress?.(round / ROUNDS);
  }

  // Verdict. Fails: usage grew round after round, then allocation wedged and stayed wedged.
  // Holds: no request failed and every round ended back at the first round's baseline.
  const wedge = rounds.findIndex((x) => x.wedged);
  let growing = 0;
  for (let i = 1; i < (wedge < 0 ? rounds.length : wedge); i++) if (rounds[i].clustersOut > rounds[i - 1].clustersOut) growing++;
  const stayedWedged = wedge >= 0 && rounds.slice(wedge).every((x) => x.wedged);
  const baseline = rounds[0].clustersOut;
  const failedRequests = rounds.reduce((a, x) => a + x.failed, 0);
  const backToBaseline = rounds.every((x) => x.clustersOut === baseline);
  const failed = wedge >= 0 && growing >= MIN_GROWING && stayedWedged;
  const held = wedge < 0 && failedRequests === 0 && backToBaseline;
  const outcome = failed
    ? `clusters out of their zone grew ${rounds.slice(0, wedge + 1).map((x) => x.clustersOut).join(" -> ")} and allocation wedged in round ${wedge + 1}`
    : held ? `usage back to ${baseline} clusters after every round, nothing wedged`
      : wedge >= 0 ? `wedged in round ${wedge + 1} without a steady rise` : `usage did not return to its baseline (${rounds.map((x) => x.clustersOut).join(", ")})`;

  const st = pool.stats();
  const result: VariantResult = {
    variant: mode === "none" ? "no balancing (none, -CURRENT 2005)" : `${mode} balancing (the fix)`,
    expect, outcome, failed, ok: expect === "fails" ? failed : held,
    figures: {
      rounds: ROUNDS,
      "clusters out after round 1": baseline,
      "clusters out at the end": rounds[rounds.length - 1].clustersOut,
      "wedged in round": wedge < 0 ? "never" : wedge + 1,
      "failed requests": failedRequests,
      "getcl hits": st.packets.hits, "getcl misses": st.packets.misses,
      "pairs drained": st.packets.drained,
      "clusters denied": st.clusters.denied,
    },
    log, worst: rec.worstReport, end: pool.netstat(), series: rec.series,
  };
  // netperf frees everything it takes each round: nothing is left to free.
  closeClean(pool, `packet-zone ${mode}`);
  return result;
}

export const packetZone: Scenario = variantScenario<[PacketMode, "fails" | "holds"]>({
  name: "packet-zone",
  title: "the packet zone parks clusters forever under netperf until -CURRENT wedges",
  seeds: "seed 002",
}, [["none", "fails"], ["median", "holds"]], (seed, [mode, expect], progress) => runVariant(seed, mode, expect, progress));
