// Scenario `rtems-deadlock` (seeds 001 and 003): an RTEMS 4.6 board (MPC860,
// caches off) streams log data through its FTP server while TCP ACKs and
// broadcast chatter arrive. The Ethernet driver keeps a cluster in every
// receive descriptor; the receive daemon refills a descriptor after each
// frame by polling for a cluster once a tick, while the application's sosend
// takes any freed cluster at once. When the application wins every race the
// descriptors run dry, ACKs are lost, the send socket buffer holds every
// cluster, and the box wedges. Keepalive then drops the connection, but the
// stock tcp_drop frees nothing, so it stays wedged.
//
// Fixes (seed 003): (1) recovery: the drop frees both socket buffers and
// every mbuf the socket holds; (2) avoidance: the m_clalloc reservation flag,
// set by the receive daemon while it waits, so nobody else gets a cluster.

import { Pool } from "../../pool.js";
import { M_NOWAIT, M_RECV, M_PKTHDR, MT } from "../../constants.js";
import { Simulator, Cpu } from "../engine.js";
import { Recorder, FLAG_REFUSALS } from "../recorder.js";
import { closeClean } from "../finish.js";
import { foldLog, type Scenario, type VariantResult } from "../types.js";
import { variantScenario } from "./variants.js";

const DURATION = 240_000;
/** One clock tick of RTEMS (the receive daemon's polling period when it waits for a cluster). */
const TICK = 10;
const RX_DESCRIPTORS = 16;
const MSS = 1460;
/** The FTP data socket's send buffer (sb_hiwat). */
const SO_SNDBUF = 96 * 1024;
/** One segment of formatted log text. */
const LOG_DATA = new Uint8Array(1460).fill(0x41);
/** Keepalive as the seed tuned it: idle 30 s, then probes every 10 s, dropped after 4 unanswered. */
const KEEPIDLE = 30_000, KEEPINTVL = 10_000, KEEPCNT = 4;
const RTO = 1_000;
/** A gap in delivery longer than this is a stall (wedge). */
const STALL = 5_000;
/** A drop that frees everything must bring delivery back within keepalive + reconnect + slack. */
const RECOVERY_BOUND = KEEPIDLE + KEEPCNT * KEEPINTVL + 5_000 + 15_000;
/** Per-frame CPU costs on an MPC860 with caches off (ms). */
const COST_RX = 0.4, COST_TCP = 0.6, COST_FORMAT = 0.2;
/** 10 Mbit/s Ethernet: one full segment on the wire (ms); the client is 3 ms away. */
const WIRE = 1.2, RTT = 3;

interface Fixes { dropFrees: boolean; flag: boolean }

function runVariant(seed: number, name: string, fixes: Fixes, expect: "fails" | "holds",
  progress?: (f: number) => void): VariantResult {
  const sim = new Simulator(seed);
  const cpu = new Cpu(sim);
  const log: string[] = [];
  const pool = Pool.create({ profile: "rtems", clock: sim, logger: (m) => log.push(m) });
  const rng = sim.rng;
  const rxTask = cpu.task("rxDaemon", 30), netTask = cpu.task("network", 20), app = cpu.task("ftpd", 10);

  // --- The Ethernet driver's receive ring: each descriptor holds a cluster or is empty.
  const ring: number[] = [];
  /** Buffers handed to work still queued on the CPU when the run ends (frames, formatted data). */
  const inFlight = new Set<number>();
  for (let i = 0; i < RX_DESCRIPTORS; i++) ring.push(pool.getcl(M_NOWAIT | M_RECV, MT.DATA, M_PKTHDR));
  let rxHead = 0, framesIn = 0, framesLost = 0, refillPending = false, rxWaiting = false, waitSince = 0;
  const refill = (): void => {
    // The receive daemon fills every empty descriptor it can, then waits a tick if some stay empty.
    refillPending = false;
    cpu.submit(rxTask, 0.05, () => {
      let empty = 0;
      for (let i = 0; i < RX_DESCRIPTORS; i++) {
        if (ring[i]) continue;
        const m = pool.getcl(M_NOWAIT | M_RECV, MT.DATA, M_PKTHDR);
        if (m) ring[i] = m;
        else empty++;
      }
      if (empty) {
        if (!rxWaiting) {
          rxWaiting = true;
          waitSince = sim.now();
          if (fixes.flag) pool.setReserved(true);
        } else if (sim.now() - waitSince >= 30_000) {
          log.push("Still waiting for mbuf cluster.");
          waitSince = sim.now();
        }
        refillPending = true;
        sim.after(TICK, refill);
      } else if (rxWaiting) {
        rxWaiting = false;
        if (fixes.flag) pool.setReserved(false);
      }
    });
  };
  const frameArrives = (kind: "ack" | "bcast", acked = 0): void => {
    const m = ring[rxHead];
    if (!m) {
      framesLost++;
      return;
    }
    ring[rxHead] = 0;
    rxHead = (rxHead + 1) % RX_DESCRIPTORS;
    framesIn++;
    if (!refillPending) refill();
    inFlight.add(m);
    cpu.submit(netTask, COST_RX + COST_TCP, () => {
      if (kind === "ack") tcpAck(acked);
      inFlight.delete(m);
      pool.freem(m);
    });
  };

  // --- Broadcast chatter from the LAN: about 40 frames a second.
  const chatter = (): void => {
    frameArrives("bcast");
    sim.after(rng.exp(25), chatter);
  };
  sim.after(rng.exp(25), chatter);

  // --- TCP: the FTP data connection, with a real socket (MT_SOCKET mbuf) and send buffer.
  // Segments are counted from the start of the connection: [unackedFrom, sentUpTo) are in
  // flight, [sentUpTo, queued) wait in the send buffer; all of [unackedFrom, queued) are held.
  let conn = 0, so = 0, queued = 0, unackedFrom = 0, sentUpTo = 0, bytesAcked = 0;
  const deliveries: number[] = [];
  /** Sockets a stock tcp_drop left behind with everything they held. */
  const zombies: number[] = [];
  let lastProgress = 0, probes = 0, dropped = 0, leakedOnDrop = 0, connected = false, connections = 0;
  const connect = (): void => {
    so = pool.socreate({ sndHiwat: SO_SNDBUF });
    if (!so) {
      sim.after(1_000, connect); // no mbuf for the socket yet: the client tries again
      return;
    }
    conn++;
    connections++;
    connected = true;
    queued = unackedFrom = sentUpTo = 0;
    lastProgress = sim.now();
    probes = 0;
    appLoop(conn);
  };
  let wireFree = 0;
  const transmit = (): void => {
    // Segments leave at the wire's pace within the client's window; it ACKs every second one.
    while (connected && sentUpTo < queued && sentUpTo - unackedFrom < 24) {
      sentUpTo++;
      wireFree = Math.max(wireFree, sim.now()) + WIRE;
      if (sentUpTo % 2 === 0 || sentUpTo === queued) {
        const upTo = sentUpTo, c = conn;
        sim.at(wireFree + RTT + rng.next(), () => { if (c === conn && connected) frameArrives("ack", upTo); });
      }
    }
  };
  const tcpAck = (upTo: number): void => {
    if (!connected || upTo <= unackedFrom) return;
    pool.sbdrop(so, "snd", (upTo - unackedFrom) * MSS); // acknowledged data leaves the send buffer
    bytesAcked += (upTo - unackedFrom) * MSS;
    deliveries.push(sim.now());
    unackedFrom = upTo;
    lastProgress = sim.now();
    probes = 0;
    transmit();
  };
  // Retransmission: after RTO without progress, send the first unacked segment again (m_copym shares its cluster).
  sim.every(RTO, () => {
    if (connected && unackedFrom < sentUpTo && sim.now() - lastProgress >= RTO) {
      const c = conn, upTo = Math.min(unackedFrom + 2, sentUpTo);
      sim.after(3, () => { if (c === conn && connected) frameArrives("ack", upTo); });
    }
  });
  // Keepalive: idle KEEPIDLE, then KEEPCNT probes KEEPINTVL apart, then tcp_drop.
  sim.every(KEEPINTVL / 2, () => {
    if (!connected || sim.now() - lastProgress < KEEPIDLE + probes * KEEPINTVL) return;
    if (++probes <= KEEPCNT) {
      const c = conn, upTo = unackedFrom;
      sim.after(3, () => { if (c === conn && connected) frameArrives("ack", upTo); });
      return;
    }
    connected = false;
    dropped++;
    const held = queued - unackedFrom;
    if (fixes.dropFrees) {
      pool.soclose(so); // seed 003's fix: both socket buffers and every mbuf the socket holds
    } else {
      leakedOnDrop += held; // the stock tcp_drop leaves the socket buffer's mbufs where they are
      zombies.push(so);
    }
    so = 0;
    log.push(`ftpd: data connection dropped after keepalive timeout (${held} clusters in its send buffer)`);
    sim.after(5_000, connect); // the client reconnects and asks again
  });

  // --- The application: formats log data and writes it, taking any cluster it can get at once.
  const appLoop = (c: number): void => {
    if (c !== conn || !connected) return;
    if (pool.sbspace(so, "snd") < MSS) {
      sim.after(1, () => appLoop(c)); // sbwait
      return;
    }
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    if (!m) {
      sim.after(1, () => appLoop(c)); // sosend retries as soon as it runs again
      return;
    }
    inFlight.add(m);
    cpu.submit(app, COST_FORMAT, () => {
      inFlight.delete(m);
      if (c !== conn || !connected || !pool.copyback(m, 0, LOG_DATA) || !pool.sbappend(so, "snd", m)) {
        pool.freem(m);
        if (c === conn && connected) sim.after(1, () => appLoop(c));
        return;
      }
      queued++;
      transmit();
      appLoop(c);
    });
  };
  connect();

  const rec = new Recorder(sim, pool, () => ({
    "KB acked": Math.round(bytesAcked / 1024),
    "empty rx descriptors": ring.filter((m) => !m).length,
    "frames lost": framesLost,
    [FLAG_REFUSALS]: pool.stats().reservedDenied,
  }), (x) => x["empty rx descriptors"] * 1e6 - x["KB acked"]);
  rec.start(500);
  for (let t = 0; t <= DURATION; t += DURATION / 40) {
    sim.run(t);
    progress?.(t / DURATION);
  }
  // Stalls: gaps between deliveries (ACK progress) longer than STALL, the last one running to the end.
  const stalls: [number, number][] = [];
  let prev = 0;
  for (const at of [...deliveries, DURATION]) {
    if (at - prev > STALL) stalls.push([prev, at]);
    prev = at;
  }
  const endStall = stalls.length && stalls[stalls.length - 1][1] === DURATION ? DURATION - stalls[stalls.length - 1][0] : 0;
  const longest = Math.max(0, ...stalls.map(([a, b]) => b - a));
  const neverRecovered = endStall > RECOVERY_BOUND;
  const s0 = stalls[0];
  const outcome = !stalls.length ? "never wedged"
    : neverRecovered ? `wedged at ${(s0[0] / 1000).toFixed(1)} s and never recovered`
      : `wedged ${stalls.length} times, each time recovered within ${(longest / 1000).toFixed(0)} s (first at ${(s0[0] / 1000).toFixed(1)} s)`;
  const ok = expect === "fails" ? neverRecovered
    : fixes.flag ? stalls.length === 0
      : stalls.length > 0 && longest <= RECOVERY_BOUND;
  // Leave the pool clean: free what the run still holds (including what a stock drop leaked).
  const worst = rec.worstReport, end = pool.netstat();
  for (const m of ring) if (m) pool.freem(m);
  for (const m of inFlight) pool.freem(m);
  for (const z of zombies) pool.soclose(z);
  if (so) pool.soclose(so);
  const result: VariantResult = {
    variant: name, expect, outcome, failed: neverRecovered, ok,
    figures: {
      "KB delivered": Math.round(bytesAcked / 1024), "longest stall (s)": +(longest / 1000).toFixed(1), "frames lost": framesLost, "frames received": framesIn,
      "connections dropped": dropped, "clusters leaked by drops": leakedOnDrop, connections,
      "requests refused by the flag": pool.stats().reservedDenied,
    },
    log: foldLog(log), worst, end, series: rec.series,
  };
  closeClean(pool, `rtems-deadlock ${name}`);
  return result;
}

export const rtemsDeadlock: Scenario = variantScenario<[string, Fixes, "fails" | "holds"]>({
  name: "rtems-deadlock",
  title: "an RTEMS FTP server starves its own receive task and wedges",
  seeds: "seeds 001 and 003",
}, [
  ["no fixes (RTEMS 4.6.1)", { dropFrees: false, flag: false }, "fails"],
  ["drop frees everything", { dropFrees: true, flag: false }, "holds"],
  ["reservation flag", { dropFrees: false, flag: true }, "holds"],
  ["both fixes (reservation flag + drop frees)", { dropFrees: true, flag: true }, "holds"],
], (seed, [name, fixes, expect], progress) => runVariant(seed, name, fixes, expect, progress));
