// The leak detector's trend half: samples usage on the pool's Clock and
// flags the two signs seed 004 names, each with the numbers behind it:
//   rising:    "a gradual increase in usage that never decreases": over the
//              last `window` samples, cut into `segments` parts, the lowest
//              usage of every part is above the lowest of the part before,
//              and the floor rose by at least `minRise` mbufs. A sawtooth
//              load comes back down to its floor and is never flagged.
//   idle-high: "high mbuf usage on a relatively idle system": no more than
//              `idleOps` allocations + frees per sample for `idleSamples`
//              samples in a row, while at least `highUsage` mbufs are in use.
// When a verdict is reached the exact report (leak.ts) says who holds the
// memory: mostly socket buffers (per the classifier) means an application
// that does not read its socket; mostly nobody means a leak. The pool
// emits "leak" with the verdict once each time a sign appears.

import { PoolSampler } from "../sampling/sampler.js";
import type { PoolCore } from "../pool/context.js";
import { outstanding, type HolderClassifier, type OutstandingReport } from "./outstanding.js";
import { sampleOf, type UsageSample } from "../stats/sample.js";
import { checkInt, MbufError } from "../errors.js";
import { optionKeys } from "../validate.js";

/** What the trend says. */
export type LeakSign = "rising" | "idle-high";
/** What the holders say. */
export type LeakDiagnosis = "leak" | "unread-socket";

/** A verdict, with the numbers that led to it. */
export interface LeakVerdict {
  sign: LeakSign;
  diagnosis: LeakDiagnosis;
  /** Clock time of the verdict, ms. */
  at: number;
  /** One sentence for people. */
  message: string;
  evidence: {
    /** Samples the verdict looked at and the time they span, ms. */
    samples: number;
    spanMs: number;
    /** mbufs in use at the first and last of those samples. */
    first: number;
    last: number;
    /** rising: the lowest usage of each part of the window, oldest part first. */
    floors?: number[];
    /** rising: last floor - first floor. */
    rise?: number;
    /** idle-high: allocations + frees per sample over the idle run. */
    opsPerSample?: number[];
    /** idle-high: the threshold that was met. */
    highUsage?: number;
  };
  /** Outstanding mbufs: total, held by a classified holder, held by nobody known. */
  outstanding: { total: number; held: number; unheld: number; byHolder: Record<string, number>; topOwners: Array<{ owner: number; count: number; maxAge: number }> };
}

/** Options of the trend detector. */
export interface LeakDetectorOptions {
  /** Sampling interval on the pool's clock, ms; 1000 by default. */
  intervalMs?: number;
  /** Samples judged for "rising"; 60 by default. */
  window?: number;
  /** Parts of the window whose floors must each rise; 4 by default. */
  segments?: number;
  /** Smallest rise of the floor, in mbufs, that counts; 16 by default. */
  minRise?: number;
  /** Most allocations + frees per sample that still count as idle; 0 by default. */
  idleOps?: number;
  /** Idle samples in a row needed; 5 by default. */
  idleSamples?: number;
  /** mbufs in use that count as high while idle; 10% of the mbuf limit by default. */
  highUsage?: number;
  /** Names the holder of each chain (socket buffers plug in here). */
  classify?: HolderClassifier;
  /** Share of outstanding mbufs held by a holder above which the diagnosis is an unread socket; 0.5. */
  heldShare?: number;
}

/** Samples a pool and emits "leak" verdicts on it. */
/** Every key LeakDetectorOptions has. */
export const LEAK_DETECTOR_OPTION_KEYS = optionKeys<LeakDetectorOptions>({
  intervalMs: 1, window: 1, segments: 1, minRise: 1, idleOps: 1, idleSamples: 1, highUsage: 1, classify: 1, heldShare: 1,
});

export class LeakDetector extends PoolSampler {
  readonly window: number;
  readonly segments: number;
  readonly minRise: number;
  readonly idleOps: number;
  readonly idleSamples: number;
  readonly highUsage: number;
  readonly heldShare: number;
  classify?: HolderClassifier;
  private readonly samples: UsageSample[] = [];
  private readonly active = new Set<LeakSign>();
  private readonly found: LeakVerdict[] = [];

  constructor(pool: PoolCore, options: LeakDetectorOptions = {}) {
    super(pool, options.intervalMs);
    this.window = checkInt(options.window ?? 60, "window", 2, 1 << 20);
    this.segments = checkInt(options.segments ?? 4, "segments", 2, this.window);
    this.minRise = checkInt(options.minRise ?? 16, "minRise", 1, 0x7fffffff);
    this.idleOps = checkInt(options.idleOps ?? 0, "idleOps", 0, 0x7fffffff);
    this.idleSamples = checkInt(options.idleSamples ?? 5, "idleSamples", 1, 1 << 20);
    this.highUsage = checkInt(options.highUsage ?? Math.max(1, Math.floor(pool.layout.nmbufs / 10)), "highUsage", 1, 0x7fffffff);
    const share = options.heldShare ?? 0.5;
    if (typeof share !== "number" || !(share > 0 && share <= 1)) throw new MbufError("EINVAL", `heldShare must be in (0, 1], got ${String(share)}`);
    this.heldShare = share;
    if (options.classify !== undefined && typeof options.classify !== "function") throw new MbufError("EINVAL", "classify must be a function");
    this.classify = options.classify;
  }

  /** Every verdict so far, oldest first. */
  get verdicts(): readonly LeakVerdict[] {
    return this.found;
  }

  /** Signs standing now. */
  get signs(): LeakSign[] {
    return [...this.active];
  }

  /** Takes one sample, judges, and returns the verdicts newly reached (also emitted as "leak" on the pool). */
  sample(): LeakVerdict[] {
    const smp = sampleOf(this.pool.stats(), this.pool.clock.now());
    this.samples.push(smp);
    const keep = Math.max(this.window, this.idleSamples + 1);
    if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
    const out: LeakVerdict[] = [];
    for (const [sign, ev] of [["rising", this.judgeRising()], ["idle-high", this.judgeIdle()]] as const) {
      if (!ev) {
        this.active.delete(sign);
        continue;
      }
      if (this.active.has(sign)) continue;
      this.active.add(sign);
      const v = this.verdict(sign, ev);
      this.found.push(v);
      out.push(v);
      this.pool.emit("leak", v);
    }
    return out;
  }

  /** The floors of each part of the window, if each is above the one before and the rise is large enough. */
  private judgeRising(): LeakVerdict["evidence"] | undefined {
    if (this.samples.length < this.window) return undefined;
    const w = this.samples.slice(-this.window);
    const floors: number[] = [];
    for (let k = 0; k < this.segments; k++) {
      const a = Math.floor((k * w.length) / this.segments), b = Math.floor(((k + 1) * w.length) / this.segments);
      let min = Infinity;
      for (let i = a; i < b; i++) min = Math.min(min, w[i].mbufsInUse);
      floors.push(min);
    }
    for (let k = 1; k < floors.length; k++) if (floors[k] <= floors[k - 1]) return undefined;
    const rise = floors[floors.length - 1] - floors[0];
    if (rise < this.minRise) return undefined;
    return { samples: w.length, spanMs: w[w.length - 1].t - w[0].t, first: w[0].mbufsInUse, last: w[w.length - 1].mbufsInUse, floors, rise };
  }

  /** The idle run, if the last idleSamples samples saw at most idleOps each and usage is high. */
  private judgeIdle(): LeakVerdict["evidence"] | undefined {
    const n = this.idleSamples;
    if (this.samples.length < n + 1) return undefined;
    const w = this.samples.slice(-(n + 1));
    const ops: number[] = [];
    for (let i = 1; i < w.length; i++) ops.push(w[i].ops - w[i - 1].ops);
    if (ops.some((x) => x > this.idleOps)) return undefined;
    const last = w[w.length - 1].mbufsInUse;
    if (last < this.highUsage) return undefined;
    return { samples: w.length, spanMs: w[w.length - 1].t - w[0].t, first: w[0].mbufsInUse, last, opsPerSample: ops, highUsage: this.highUsage };
  }

  private verdict(sign: LeakSign, evidence: LeakVerdict["evidence"]): LeakVerdict {
    const r: OutstandingReport = outstanding(this.pool, { classify: this.classify, perGroup: 0 });
    const diagnosis: LeakDiagnosis = r.total > 0 && r.held / r.total >= this.heldShare ? "unread-socket" : "leak";
    const holders = Object.entries(r.byHolder).filter(([h]) => h !== "none").sort((a, b) => b[1] - a[1]);
    const what = sign === "rising"
      ? `mbuf usage keeps rising and never comes back down: its floor went ${evidence.floors?.join(" -> ")} over ${evidence.samples} samples (${evidence.spanMs} ms)`
      : `high mbuf usage while idle: ${evidence.last} mbufs in use (threshold ${evidence.highUsage}) with ${evidence.opsPerSample?.join("/")} allocations+frees per sample`;
    // The suspect: the owner with the most mbufs nobody holds (ties: the oldest first).
    let suspect: (typeof r.groups)[number] | undefined;
    for (const g of r.groups) if ((g.byHolder["none"] ?? 0) > (suspect?.byHolder["none"] ?? 0)) suspect = g;
    const why = diagnosis === "unread-socket"
      ? `; ${r.held} of ${r.total} outstanding mbufs are held by ${holders.map(([h, c]) => `${h} (${c})`).join(", ")}: an application is not reading its socket`
      : `; ${r.unheld} of ${r.total} outstanding mbufs are held by nobody known: a leak` +
        (suspect ? ` (owner ${suspect.owner} holds ${suspect.byHolder["none"]} of them, the oldest of age ${suspect.maxAge})` : "");
    return {
      sign, diagnosis, at: this.pool.clock.now(), message: what + why, evidence,
      outstanding: {
        total: r.total, held: r.held, unheld: r.unheld, byHolder: r.byHolder,
        topOwners: [...r.groups].sort((a, b) => b.count - a.count).slice(0, 5).map((g) => ({ owner: g.owner, count: g.count, maxAge: g.maxAge })),
      },
    };
  }
}
