// mbufpool: the BSD network-buffer allocator as a WebAssembly core with a
// TypeScript host. The public API.

export { Pool, type PoolOptions, type DrainRoutine, type PoolMessage } from "./pool.js";
export { MbufError, type MbufErrorCode } from "./errors.js";
export {
  MT, MT_NAMES, MT_NTYPES, type MbufType, M_EXT, M_PKTHDR, M_EOR, M_RDONLY, M_BCAST, M_MCAST,
  M_NOWAIT, M_WAITOK, M_RECV, MSIZE, MLEN, MHLEN, PAGE_SIZE,
} from "./constants.js";
export {
  PROFILES, getProfile, resolveTunables, type Profile, type ProfileName, type TunableSpec, type Values, type Layout,
} from "./profiles.js";
export type { PoolStats, ZoneStats } from "./stats/snapshot.js";
export { formatNetstat, NETSTAT_FORMATS } from "./stats/netstat.js";
export type { AuditResult } from "./audit.js";
export { RealClock, VirtualClock, type Clock } from "./clock.js";
export type { Build } from "./core/module.js";

// Chains and socket buffers

// Operating the pool: waits, netm, tunables at runtime

// Observability: reports, leaks

// Fuzzing and traces
export {
  fuzz, runCase, caseArbitrary, summarize, FUZZ_PROFILES,
  type FuzzOptions, type FuzzResult, type FuzzFailure, type Case, type Command, type CaseRun,
} from "./fuzz/fuzzer.js";
export {
  replay, replayFile, parseTrace, formatTrace, runLine, describeDivergence,
  type TraceLine, type CreateLine, type OpLine, type Divergence, type ReplayOptions, type ReplayResult,
} from "./fuzz/trace.js";
export { Run, TraceError, capture, matches, type PoolFactory, type Result } from "./fuzz/run.js";
export { OPS, OP_BY_NAME, argError, type OpSpec, type ArgSpec, type Args } from "./fuzz/ops.js";
export { Model, observedStats, type ModelStats } from "./fuzz/model.js";
export { KINDS, FREED, FREED_CODES, type ArgKind, type BadClass, type BadContext, type Encoded, type KindName } from "./fuzz/values.js";
