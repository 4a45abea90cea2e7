// The contract between benchmark case files (bench/cases/*.ts) and the runner.
//
// Each case file exports `cases: BenchCase[]`. Cases with the same `group`
// run side by side in one benchmark.js suite, in the same process and run,
// and are printed as ops/s and as a ratio to the group's baseline.

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
