// Usage over time: samples of a pool's snapshot taken on its Clock, kept in
// a bounded ring, exported as a versioned JSON time series (for charts and
// the simulator's HTML report).

import { PoolSampler } from "./sampler.js";
import type { PoolCore } from "../pool/context.js";
import { sampleOf, type UsageSample } from "../stats/sample.js";
import { MbufError, checkInt } from "../errors.js";
import { optionKeys, checkOptions } from "../validate.js";

export const SERIES_JSON_SCHEMA = "mbufpool.series";
export const SERIES_JSON_VERSION = 1;

/** The JSON time series, version 1. */
export interface SeriesJSON {
  schema: typeof SERIES_JSON_SCHEMA;
  version: typeof SERIES_JSON_VERSION;
  profile: string;
  /** Limits, for the chart's scale. */
  limits: { mbufs: number; clusters: number };
  intervalMs: number;
  samples: UsageSample[];
}

/** Records a pool's usage every `intervalMs` on its clock (or on demand with sample()). */
export class UsageRecorder extends PoolSampler {
  /** Most samples kept (older ones are dropped). */
  readonly capacity: number;
  private readonly buf: UsageSample[] = [];

  constructor(pool: PoolCore, options: { intervalMs?: number; capacity?: number } = {}) {
    checkOptions(options, "UsageRecorder options", optionKeys<{ intervalMs?: number; capacity?: number }>({ intervalMs: 1, capacity: 1 }));
    super(pool, options.intervalMs);
    this.capacity = checkInt(options.capacity ?? 3600, "capacity", 1, 1 << 24);
  }

  /** Takes one sample now. */
  sample(): UsageSample {
    const smp = sampleOf(this.pool.stats(), this.pool.clock.now());
    this.buf.push(smp);
    if (this.buf.length > this.capacity) this.buf.splice(0, this.buf.length - this.capacity);
    return smp;
  }

  /** The samples, oldest first. */
  get samples(): readonly UsageSample[] {
    return this.buf;
  }

  /** The JSON time series. */
  toJSON(): SeriesJSON {
    const s = this.pool.isClosed ? undefined : this.pool.stats();
    return {
      schema: SERIES_JSON_SCHEMA,
      version: SERIES_JSON_VERSION,
      profile: this.pool.profile.name,
      limits: { mbufs: s?.mbufs.limit ?? 0, clusters: s?.clusters.limit ?? 0 },
      intervalMs: this.intervalMs,
      samples: [...this.buf],
    };
  }
}

/** Checks that `v` looks like a SeriesJSON document (for readers of exported files). */
export function parseSeries(v: unknown): SeriesJSON {
  const d = v as SeriesJSON;
  if (!d || d.schema !== SERIES_JSON_SCHEMA || d.version !== SERIES_JSON_VERSION || !Array.isArray(d.samples)) {
    throw new MbufError("EINVAL", `not a ${SERIES_JSON_SCHEMA} version ${SERIES_JSON_VERSION} document`);
  }
  return d;
}

/** Columns of a series: sample times in seconds, then one array per figure (the simulator's chart shape). */
export interface SeriesColumns {
  t: number[];
  [figure: string]: number[];
}

/**
 * The series as columns, named as the simulator's HTML report names its
 * figures ("mbufs in use", "clusters in use", "clusters cached", "denied",
 * "delayed"), times in seconds: ready for a uPlot chart.
 */
export function seriesColumns(series: SeriesJSON): SeriesColumns {
  const s = series.samples;
  return {
    t: s.map((x) => +(x.t / 1000).toFixed(3)),
    "mbufs in use": s.map((x) => x.mbufsInUse),
    "clusters in use": s.map((x) => x.clustersInUse),
    "clusters cached": s.map((x) => x.clustersCache),
    denied: s.map((x) => x.denied),
    delayed: s.map((x) => x.delayed),
  };
}
