// Scenario `leak-or-reader` (seed 004): two ways mbuf usage climbs on an AIX
// server and never comes back down, which the seed tells apart:
//   "An mbuf memory leak is a situation in which some kernel or
//    kernel-extension code has neglected to release an mbuf resource ..."
//   "It is also possible to have a large number of mbufs queued at the socket
//    layer because of an application defect."
// A network service receives datagrams into a real socket receive buffer
// (sbappendrecord) and reads it in batches every few seconds: its usage is a
// sawtooth that falls back to its floor. The variants add
//   leak:   a kernel extension that takes an mbuf with a cluster for some
//           packets and forgets it (nobody holds it);
//   unread: a second application whose socket receives datagrams it never
//           reads, so they pile up in its socket buffer;
// then the traffic stops for a while (an idle system). The leak detector
// (pool.watchLeaks) samples on simulated time, with a classifier that knows
// the real socket buffers (socketClassifier). Each variant's verdict is what
// the detector said: the leak must be flagged as `leak`, the unread socket
// as `unread-socket`, and the plain sawtooth not at all.

import { Pool } from "../../pool.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../../constants.js";
import { socketClassifier } from "../../leak/socket-holders.js";
import type { LeakVerdict, LeakDiagnosis } from "../../leak/detector.js";
import { Simulator } from "../engine.js";
import { Recorder } from "../recorder.js";
import { closeClean } from "../finish.js";
import type { Scenario, VariantResult } from "../types.js";
import { variantScenario } from "./variants.js";

/** Busy time, then idle time (ms). */
const BUSY = 120_000, IDLE = 20_000;
/** Datagrams a second to the service, and to the application that never reads. */
const SERVICE_RATE = 8, UNREAD_RATE = 2;
/** The service reads its socket every READ_MIN..READ_MAX ms. */
const READ_MIN = 1_500, READ_MAX = 3_000;
/** The kernel extension forgets a buffer for this share of the packets it sees. */
const LEAK_SHARE = 0.25;
/** Owner tags (setOwner): who took each mbuf, for the exact report. */
const OWNER = { service: 1, extension: 2, app: 3 } as const;
const OWNER_NAMES: Record<number, string> = { 0: "the kernel (sockets, PCBs)", 1: "the service", 2: "the kernel extension", 3: "the application" };
/** The detector: a sample a second, a minute of samples for the trend, high = 40 mbufs while idle. */
const DETECTOR = { intervalMs: 1_000, window: 60, segments: 4, minRise: 16, idleSamples: 5, highUsage: 40 };

type Kind = "sawtooth" | "leak" | "unread";

function runVariant(seed: number, kind: Kind, progress?: (f: number) => void): VariantResult {
  const sim = new Simulator(seed);
  const log: string[] = [];
  const pool = Pool.create({ profile: "aix", clock: sim, logger: (m) => log.push(m) });
  const rng = sim.rng;
  const sockets = new Set<number>();
  const names = new Map<number, string>();
  const open = (name: string): number => {
    const so = pool.socreate({ pcb: true });
    sockets.add(so);
    names.set(so, name);
    return so;
  };
  const service = open("the service");
  const unread = kind === "unread" ? open("the application that never reads") : 0;
  const leaked: number[] = [];
  let delivered = 0, dropped = 0, read = 0;

  const detector = pool.watchLeaks({ ...DETECTOR, classify: socketClassifier(pool, sockets, (so) => names.get(so) ?? `socket ${so}`) });
  const verdicts: LeakVerdict[] = [];
  pool.on("leak", (v: LeakVerdict) => {
    verdicts.push(v);
    log.push(`[${(v.at / 1000).toFixed(0)} s] ${v.sign} -> ${v.diagnosis}: ${v.message}`);
  });

  /** A datagram of 64 to 200 bytes into a socket's receive buffer as one record; dropped if it is full. */
  const deliver = (so: number, owner: number): void => {
    pool.setOwner(owner);
    const m = pool.gethdr(M_NOWAIT, MT.DATA);
    pool.setOwner(0);
    if (!m) {
      dropped++;
      return;
    }
    if (!pool.append(m, new Uint8Array(rng.int(64, 200))) || !pool.sbappendrecord(so, "rcv", m)) {
      pool.freem(m);
      dropped++;
      return;
    }
    delivered++;
  };
  const arrivals = (rate: number, fn: () => void): void => {
    const tick = (): void => {
      if (sim.now() >= BUSY) return;
      fn();
      sim.after(rng.exp(1000 / rate), tick);
    };
    sim.after(rng.exp(1000 / rate), tick);
  };
  arrivals(SERVICE_RATE, () => {
    deliver(service, OWNER.service);
    if (kind === "leak" && rng.chance(LEAK_SHARE)) {
      // The extension copies the packet into a buffer of its own for later, and loses the pointer.
      pool.setOwner(OWNER.extension);
      const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      pool.setOwner(0);
      if (m) leaked.push(m);
    }
  });
  if (unread) arrivals(UNREAD_RATE, () => deliver(unread, OWNER.app));
  // The service reads everything queued every few seconds, and once more when traffic stops.
  const reader = (): void => {
    while (pool.sbdroprecord(service, "rcv")) read++;
    if (sim.now() < BUSY) sim.after(rng.int(READ_MIN, READ_MAX), reader);
  };
  sim.after(rng.int(READ_MIN, READ_MAX), reader);
  sim.at(BUSY + 500, () => { while (pool.sbdroprecord(service, "rcv")) read++; });

  const rec = new Recorder(sim, pool, () => ({
    "KB queued in sockets": Math.round([...sockets].reduce((a, so) => a + pool.sbstat(so, "rcv").cc, 0) / 1024),
    "leaked": leaked.length,
    "detector verdicts": verdicts.length,
  }), (x) => x["mbufs in use"]);
  rec.start(1_000);
  const end = BUSY + IDLE;
  for (let t = 0; t < end; t += end / 20) {
    sim.run(t + end / 20);
    progress?.((t + end / 20) / end);
  }
  detector.stop();

  // Verdict: what the detector said. Flagged = the run failed as the seed's systems did.
  const diagnoses = [...new Set(verdicts.map((v) => v.diagnosis))];
  const failed = verdicts.length > 0;
  const want: LeakDiagnosis | undefined = kind === "leak" ? "leak" : kind === "unread" ? "unread-socket" : undefined;
  const ok = want ? failed && diagnoses.length === 1 && diagnoses[0] === want : !failed;
  const first = verdicts[0];
  const outcome = !failed ? "never flagged: usage comes back down to its floor"
    : `flagged ${diagnoses.join(" and ")} (${verdicts.map((v) => v.sign).join(", ")}) first at ${(first.at / 1000).toFixed(0)} s`;

  const st = pool.stats();
  const worst = rec.worstReport, endReport = pool.netstat();
  const result: VariantResult = {
    variant: kind === "sawtooth" ? "healthy service (sawtooth)" : kind === "leak" ? "a kernel extension that leaks" : "an application that never reads its socket",
    expect: kind === "sawtooth" ? "holds" : "fails", outcome, failed, ok,
    figures: {
      "datagrams delivered": delivered, "datagrams read": read, "datagrams dropped": dropped,
      "mbufs leaked": leaked.length,
      "mbufs in use at the end": st.mbufs.current,
      "held by sockets at the first verdict": first ? first.outstanding.held : "-",
      "held by nobody at the first verdict": first ? first.outstanding.unheld : "-",
      "biggest owner at the first verdict": first?.outstanding.topOwners.length
        ? `${OWNER_NAMES[first.outstanding.topOwners[0].owner] ?? `owner ${first.outstanding.topOwners[0].owner}`} (${first.outstanding.topOwners[0].count} mbufs)` : "-",
      diagnosis: diagnoses.join(", ") || "none",
    },
    log, worst, end: endReport, series: rec.series,
  };
  // Free what the run still holds: the sockets (and everything queued in them) and the leaked buffers.
  for (const so of sockets) pool.soclose(so);
  sockets.clear();
  for (const m of leaked) pool.freem(m);
  closeClean(pool, `leak-or-reader ${kind}`);
  return result;
}

export const leakOrReader: Scenario = variantScenario<Kind>({
  name: "leak-or-reader",
  title: "a leak or an application that never reads its socket? the leak detector tells them apart",
  seeds: "seed 004",
}, ["leak", "unread", "sawtooth"], runVariant);
