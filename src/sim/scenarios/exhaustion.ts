// Scenario `exhaustion` (seed 000): a FreeBSD 4 mail+DNS server on the
// default nmbclusters. A burst of SMTP sessions fills receive socket buffers
// faster than the mail program (disk bound) reads them; clusters run out; the
// driver drops frames, the DNS server's replies fail with ENOBUFS ("sendto:
// No buffer space available") and the kernel prints "All mbuf clusters
// exhausted, please see tuning(7)." at most once a second. The fix is the
// seed's sizing rule, applied through the advisor to the peak number of
// sessions the first run saw. A malformed query (a label that claims to be
// longer than the packet) arrives mid-burst: it is parsed out of the chain
// with bounds checks, rejected, and costs no buffer.

import { Pool } from "../../pool.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../../constants.js";
import { sizePool } from "../../tunables/sizing.js";
import { Simulator } from "../engine.js";
import { Recorder } from "../recorder.js";
import { closeClean } from "../finish.js";
import { foldLog, type Scenario, type ScenarioOptions, type VariantResult, scenarioResult } from "../types.js";
import { buildQuery, parseQuery } from "../../proto/dns.js";

const DURATION = 60_000;
const SEGMENT = 1460;
/** The SMTP sessions' receive socket buffer (sb_hiwat), as in the seed's sizing rule. */
const SOCKBUF = 16 * 1024;
const PAYLOAD = new Uint8Array(SEGMENT).fill(0x2e);
/** When the malformed query arrives (after the burst, as in the seed's log). */
const MALFORMED_AT = 57_000;
/** Mean time pdns spends between recvfrom and sendto (ms). */
const LOOKUP_MS = 2;
/** Receive descriptors of the network card. */
const RX_RING = 64;

interface Run { result: VariantResult; peakSessions: number }

function runVariant(seed: number, tunables: Record<string, number>, name: string, expect: "fails" | "holds",
  progress?: (f: number) => void): Run {
  const sim = new Simulator(seed);
  const log: string[] = [];
  const pool = Pool.create({ profile: "freebsd4", tunables, clock: sim, logger: (m) => log.push(`/kernel: ${m}`) });
  const rng = sim.rng;
  let enobufs = 0, drops = 0, answered = 0, malformed = 0, open = 0, peakSessions = 0, refused = 0;
  const sockets = new Set<number>();

  // The driver, as FreeBSD 4's Ethernet drivers did it: a ring of receive descriptors, each
  // holding an mbuf+cluster. A frame lands in the next descriptor; the driver passes it up
  // only if it can get a fresh mbuf+cluster for the descriptor, else it drops the frame and
  // keeps the old buffer (so the ring never runs dry).
  const ring: number[] = [];
  for (let i = 0; i < RX_RING; i++) ring.push(pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR));
  let head = 0;
  const receive = (bytes: Uint8Array): number => {
    const fresh = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    if (!fresh) {
      drops++;
      return 0;
    }
    const m = ring[head];
    ring[head] = fresh;
    head = (head + 1) % RX_RING;
    pool.copyback(m, 0, bytes); // an empty cluster holds any frame: this cannot fail
    return m;
  };

  // SMTP sessions: a burst of arrivals between 10 s and 40 s.
  const arrive = (): void => {
    const t = sim.now();
    const rate = t > 10_000 && t < 40_000 ? 10 : 0.5; // sessions per second
    if (t < DURATION - 5_000) sim.after(rng.exp(1000 / rate), arrive);
    let so: number;
    try {
      so = pool.socreate({ rcvHiwat: SOCKBUF, sndHiwat: SOCKBUF });
    } catch {
      so = 0;
    }
    if (!so) {
      refused++; // no mbuf for the socket structure: the connection is refused
      return;
    }
    sockets.add(so);
    peakSessions = Math.max(peakSessions, ++open);
    // The client sends a segment every 40 ms while the window (sbspace) allows.
    sim.every(40, () => {
      if (!sockets.has(so)) return false;
      if (pool.sbspace(so, "rcv") < SEGMENT) return true;
      const m = receive(PAYLOAD);
      if (m && !pool.sbappend(so, "rcv", m)) pool.freem(m);
      return true;
    });
    // The mail program reads a segment every 120 ms (disk bound).
    sim.every(120, () => {
      if (!sockets.has(so)) return false;
      const cc = pool.sbstat(so, "rcv").cc;
      if (cc) pool.sbdrop(so, "rcv", Math.min(cc, SEGMENT));
      return true;
    });
    sim.after(rng.int(8_000, 20_000), () => {
      sockets.delete(so);
      pool.soclose(so);
      open--;
    });
  };
  sim.after(0, arrive);

  // DNS: queries at 100/s. recvfrom copies the question out of the chain (parsed with bounds
  // checks) and frees it; the lookup takes a moment; sendto then needs a cluster for the reply,
  // and meanwhile the SMTP traffic may have taken every free one.
  let qid = 0;
  const handle = (bytes: Uint8Array): void => {
    const m = receive(bytes);
    if (!m) return;
    const q = parseQuery(pool.copydata(m, 0, pool.length(m)));
    pool.freem(m);
    if (!q.ok) {
      malformed++;
      log.push(`pdns[198]: On retrieving question of packet from 218.56.161.69, encountered error: ${q.error}`);
      return;
    }
    sim.after(rng.exp(LOOKUP_MS), () => {
      const reply = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      if (!reply) {
        enobufs++;
        log.push("pdns[198]: Error sending reply with sendto (socket=7): No buffer space available");
        return;
      }
      answered++;
      sim.after(1, () => pool.freem(reply)); // transmitted
    });
  };
  const query = (): void => {
    if (sim.now() < DURATION - 2_000) sim.after(rng.exp(10), query);
    const id = ++qid;
    handle(buildQuery(id, `host${id % 50}.example.org`));
  };
  sim.after(0, query);
  // Once things are quiet again, a malformed query: a label longer than the packet.
  sim.at(MALFORMED_AT, () => handle(buildQuery(++qid, "mail.example.org", { claimLonger: 40 })));

  const rec = new Recorder(sim, pool, () => ({ "SMTP sessions": open, "replies failed (ENOBUFS)": enobufs }));
  rec.start(250);
  for (let t = 0; t <= DURATION; t += DURATION / 20) {
    sim.run(t);
    progress?.(t / DURATION);
  }
  const worst = rec.worstReport;
  for (const m of ring) if (m) pool.freem(m);
  for (const so of sockets) pool.soclose(so);
  sockets.clear();
  const st = pool.stats();
  const denied = st.mbufs.denied + st.clusters.denied;
  const leaked = st.clusters.current + st.mbufs.current;
  const exhaustedLine = log.some((l) => l.includes("All mbuf clusters exhausted, please see tuning(7)."));
  const failed = denied > 0 && enobufs > 0 && exhaustedLine;
  const healthy = denied === 0 && enobufs === 0 && refused === 0;
  const clean = malformed === 1 && leaked === 0;
  const result: VariantResult = {
    variant: name,
    expect,
    outcome: failed ? `clusters exhausted: ${denied} requests denied, ${enobufs} replies failed with ENOBUFS, ${drops} frames dropped`
      : healthy ? "no request denied: every query answered, every segment received" : `${denied} requests denied, ${enobufs} ENOBUFS`,
    failed,
    ok: (expect === "fails" ? failed : healthy) && clean,
    figures: {
      nmbclusters: pool.layout.nmbclusters, "peak SMTP sessions": peakSessions, "queries answered": answered,
      "replies failed (ENOBUFS)": enobufs, "frames dropped": drops, "connections refused": refused,
      "malformed queries rejected": malformed, "requests denied": denied, "buffers in use at the end": leaked,
    },
    log: foldLog(log),
    worst,
    end: pool.netstat(),
    series: rec.series,
  };
  closeClean(pool, `exhaustion ${name}`);
  return { result, peakSessions };
}

export const exhaustion: Scenario = {
  name: "exhaustion",
  title: "a FreeBSD 4 mail+DNS server runs out of mbuf clusters",
  seeds: "seed 000",
  run(o: ScenarioOptions) {
    const broken = runVariant(o.seed, {}, "default nmbclusters (maxusers 32)", "fails", (f) => o.progress?.(f / 2));
    // The operator's fix: size for the peak sessions seen, by the seed's rule.
    const advice = sizePool({ connections: broken.peakSessions, sockbuf: SOCKBUF, profile: "freebsd4" });
    const fixed = runVariant(o.seed, advice.tunables, `advisor's nmbclusters (${advice.nmbclusters} for ${broken.peakSessions} sessions)`,
      "holds", (f) => o.progress?.(0.5 + f / 2));
    fixed.result.log.unshift(...advice.reasoning.map((l) => `advisor: ${l}`));
    const variants = [broken.result, fixed.result];
    return scenarioResult(this, o.seed, variants);
  },
};
