// Scenario `aix-tuning` (seed 004): an AIX 3.2.5 NFS server taking about
// 1500 UDP packets a second, in bursts, on pools sized for 100-500.
//
// On AIX an allocation never grows a pool: netm does, later, back to
// lowclust / lowmbuf free, and gives clusters above mb_cl_hiwat back to the
// VMM. With the default marks (lowmbuf 88, lowclust 29, mb_cl_hiwat 58) a
// burst empties the pools faster than netm refills them, so requests are
// denied (each one a dropped packet, a retransmission), and every lull gives
// the clusters back, so the next burst needs them again: netm grows and
// shrinks in turn, dispatched over and over (thrashing).
//
// The fix is the seed's script at the end of /etc/rc.net, run as written
// through the runtime tunables: thewall up to 10 MB, lowmbuf 3000 and some
// traffic to expand the small-mbuf pool (never reduced), lowmbuf back to its
// default, mb_cl_hiwat 1500, lowclust raised 10 at a time with traffic
// between steps to expand the cluster pool gradually, lowclust back to its
// default. Then the same load: nothing denied, netm has nothing to do.
//
// Each request takes an mbuf with a cluster (the datagram) and an extra small
// mbuf (UDP's sender address, the reason the seed sizes the mbuf pool at twice
// the packet rate), waits in the socket queue for one of NFSD server daemons,
// and its reply takes a cluster until the adapter has sent it.

import { Pool } from "../../pool.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../../constants.js";
import type { NetmStats } from "../../stats/snapshot.js";
import { Simulator } from "../engine.js";
import { Recorder } from "../recorder.js";
import { closeClean } from "../finish.js";
import type { Scenario, VariantResult } from "../types.js";
import { variantScenario } from "./variants.js";

/** Seconds of NFS load after boot (and after the tuning script, if any). */
const LOAD = 10_000;
/** Average offered load, packets a second; bursts run at twice that, lulls at nothing. */
const RATE = 1500;
/** A burst or a lull lasts between these many ms. */
const PHASE_MIN = 150, PHASE_MAX = 350;
/** nfsd daemons, and each one's mean service time (ms): 2667 requests a second at most. */
const NFSD = 8, SERVICE = 3;
/** Requests the server's UDP socket queues at most; more are dropped as "socket buffer full", not for lack of memory. */
const SOCKET_QUEUE = 400;
/** The adapter holds a reply's cluster this long on average (ms). */
const TX = 2;
/** netm reversals (a growth right after a shrink or the reverse) a second that count as thrashing. */
const THRASH_PER_S = 1;
/** netm dispatches a second, at most, of a quiet netm. */
const QUIET_PER_S = 0.1;

interface Held { m: number; a: number }

function runVariant(seed: number, tuned: boolean, expect: "fails" | "holds",
  progress?: (f: number) => void): VariantResult {
  const sim = new Simulator(seed);
  const log: string[] = [];
  const pool = Pool.create({ profile: "aix", clock: sim, logger: (m) => log.push(m) });
  const rng = sim.rng;
  const queue: Held[] = [];
  const replies = new Set<number>();
  const serving = new Set<Held>();
  let idle = NFSD, arrived = 0, served = 0, dropped = 0, repliesLost = 0, sockFull = 0;

  // --- The tuning script (seed 004), as /etc/rc.net runs it at boot, before any client.
  const ping = (): void => {
    // ping 127.0.0.1 1000 1: one 1000-byte echo over the loopback, then the next command.
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    sim.run(sim.now() + 1);
    if (m) pool.freem(m);
    sim.run(sim.now() + 20);
  };
  const no = (cmd: string, f: () => void): void => {
    log.push(`# ${cmd}`);
    f();
    sim.run(sim.now() + 1);
  };
  if (tuned) {
    log.push("Tuning mbuf pools...");
    no("no -o thewall=10240", () => pool.sysctl("thewall", 10240));
    no("no -o lowmbuf=3000", () => pool.sysctl("lowmbuf", 3000));
    ping();
    no("no -d lowmbuf", () => pool.resetTunable("lowmbuf"));
    no("no -o mb_cl_hiwat=1500", () => pool.sysctl("mb_cl_hiwat", 1500));
    let steps = 0;
    for (let n = 10; n < 1500; n += 10, steps++) {
      pool.sysctl("lowclust", n);
      ping();
    }
    log.push(`# no -o lowclust=N for N = 10, 20, ... 1490, a ping after each (${steps} steps)`);
    no("no -d lowclust", () => pool.resetTunable("lowclust"));
  } else {
    sim.run(sim.now() + 100);
  }
  const tuningEnd = sim.now();
  const st0 = pool.stats();
  const netm0: NetmStats = st0.netm;
  const denied0 = st0.mbufs.denied + st0.clusters.denied;
  const afterTuning = pool.netstat();

  // --- The NFS server.
  const next = (): void => {
    while (idle > 0 && queue.length) {
      const req = queue.shift()!;
      idle--;
      serving.add(req);
      sim.after(rng.exp(SERVICE), () => {
        serving.delete(req);
        idle++;
        served++;
        const r = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
        pool.freem(req.m);
        pool.freem(req.a);
        if (r) {
          replies.add(r);
          sim.after(rng.exp(TX), () => {
            replies.delete(r);
            pool.freem(r);
          });
        } else repliesLost++;
        next();
      });
    }
  };
  const arrive = (): void => {
    arrived++;
    if (queue.length >= SOCKET_QUEUE) {
      sockFull++;
      return;
    }
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const a = m ? pool.get(M_NOWAIT, MT.SONAME) : 0;
    if (!m || !a) {
      if (m) pool.freem(m);
      dropped++;
      return;
    }
    queue.push({ m, a });
    next();
  };
  // Clients: bursts at twice the average rate, lulls at nothing, each of random length.
  const loadEnd = tuningEnd + LOAD;
  const phase = (on: boolean): void => {
    const until = Math.min(loadEnd, sim.now() + rng.int(PHASE_MIN, PHASE_MAX));
    if (on) {
      const gap = 1000 / (2 * RATE);
      const tick = (): void => {
        if (sim.now() >= until) return;
        arrive();
        sim.after(rng.exp(gap), tick);
      };
      tick();
    }
    if (until < loadEnd) sim.at(until, () => phase(!on));
  };
  sim.after(0, () => phase(true));

  const netmNow = (): NetmStats => pool.stats().netm;
  const rec = new Recorder(sim, pool, () => {
    const n = netmNow();
    return { "requests queued": queue.length + serving.size, "netm runs": n.runs, "netm reversals": n.reversals };
  });
  rec.start(100);
  const end = loadEnd + 500;
  for (let t = sim.now(); t < end; t += LOAD / 20) {
    sim.run(Math.min(end, t + LOAD / 20));
    progress?.(Math.min(1, (sim.now() - tuningEnd) / (end - tuningEnd)));
  }
  sim.run(end);

  // Verdict, over the load only (the tuning script's own netm work is its point).
  const st = pool.stats();
  const n = st.netm;
  const secs = LOAD / 1000;
  const runs = n.runs - netm0.runs, reversals = n.reversals - netm0.reversals;
  const denied = st.mbufs.denied + st.clusters.denied - denied0;
  const thrashing = reversals / secs >= THRASH_PER_S;
  const quiet = reversals === 0 && runs / secs <= QUIET_PER_S;
  const failed = denied > 0 && thrashing;
  const held = denied === 0 && quiet;
  const outcome = `${denied} requests for memory denied, netm dispatched ${runs} times (${reversals} reversals) in ${secs} s of load` +
    (failed ? ": netm thrashing" : held ? ": netm quiet" : "");

  const worst = rec.worstReport, endReport = pool.netstat();
  const result: VariantResult = {
    variant: tuned ? "tuned by the seed's rc.net script (no -o)" : "default pools (thewall 2048, lowmbuf 88, lowclust 29, mb_cl_hiwat 58)",
    expect, outcome, failed, ok: expect === "fails" ? failed : held,
    figures: {
      "packets arrived": arrived, "requests dropped (no buffer)": dropped, "replies lost (no buffer)": repliesLost, "dropped (socket buffer full)": sockFull, "requests served": served,
      "requests for memory denied": denied, "netm runs": runs, "netm growths": n.growths - netm0.growths,
      "netm shrinks": n.shrinks - netm0.shrinks, "netm reversals": reversals,
      "mapped pages when the load starts": st0.clusters.total, thewall: pool.sysctl("thewall"),
    },
    log: tuned ? [...log, "netstat -m after the script:", ...afterTuning.trimEnd().split("\n")] : log,
    worst, end: endReport, series: rec.series,
  };
  // Free what the run still holds: queued and in-service requests, replies on the adapter.
  for (const h of [...queue, ...serving]) {
    pool.freem(h.m);
    pool.freem(h.a);
  }
  for (const r of replies) pool.freem(r);
  closeClean(pool, `aix-tuning ${tuned ? "tuned" : "default"}`);
  return result;
}

export const aixTuning: Scenario = variantScenario<[boolean, "fails" | "holds"]>({
  name: "aix-tuning",
  title: "an AIX NFS server at 1500 packets/s on default pools, then tuned with no -o",
  seeds: "seed 004",
}, [[false, "fails"], [true, "holds"]], (seed, [tuned, expect], progress) => runVariant(seed, tuned, expect, progress));
