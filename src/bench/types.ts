// The contract between the benchmark's case files (cases/*.ts) and the runner.
//
// Each case file builds a `BenchSuite` from the peers that could be loaded.
// Cases with the same `group` run side by side in one benchmark.js suite, in
// the same process and run, and are printed as ops/s and as a ratio to the
// group's baseline. A case whose peer is missing is not built: it is listed
// in `skipped` with what it needs, so a run never drops a peer silently.

export interface BenchCase {
  /** Cases of one group are measured together and compared. */
  group: string;
  /** What this case measures, e.g. "mbufpool get+free" or "Buffer.allocUnsafe(256)". */
  name: string;
  /** The case the group's ratios are relative to (one per group). */
  baseline?: boolean;
  /** Operations one call of fn performs (ops/s = calls/s x opsPerCall). */
  opsPerCall?: number;
  /** Runs right before each measurement of this case, once a round (create pools, fill arrays). */
  setup?(): void;
  /** The measured work. Must not allocate JS objects if it measures mbufpool's hot path. */
  fn(): void;
  /** Runs right after each measurement of this case, once a round (free everything, audit). */
  teardown?(): void;
}

/** Names one measured case: its group and its name. */
export interface CaseRef {
  group: string;
  name: string;
}

/**
 * A speed target, checked as a ratio of two cases of the same run. Case
 * files may export `targets: BenchTarget[]`.
 */
export interface BenchTarget {
  /** What the target says, e.g. "get+free at least as fast as a JS freelist". */
  name: string;
  /** ops/s of this case ... */
  case: CaseRef;
  /** ... divided by ops/s of this one ... */
  versus: CaseRef;
  /** ... must be at least this. */
  atLeast: number;
}

/**
 * A measurement that is not a rate (heap growth, GC count, metadata share).
 * Case files may export `checks: BenchCheck[]`; they run after the suites.
 */
export interface BenchCheck {
  group: string;
  name: string;
  /** Measures; returns named figures (numbers) and whether the expectation held. */
  run(): Promise<{ figures: Record<string, number>; ok: boolean; expected: string }>;
}

/** A case that was not built because its peer could not be loaded. */
export interface SkippedCase {
  group: string;
  name: string;
  /** What the case needs, e.g. "@thi.ng/malloc (npm install --save-dev @thi.ng/malloc)". */
  needs: string;
}

/** What one case file contributes. */
export interface BenchSuite {
  cases: BenchCase[];
  targets?: BenchTarget[];
  checks?: BenchCheck[];
  skipped?: SkippedCase[];
}
