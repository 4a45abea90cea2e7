// mbufpool/fuzz: the pool's own fuzzer (fast-check), its reference model, and
// traces that replay a failure. Kept off the main entry so that a service that
// embeds the pool loads neither fast-check nor the model.

export {
  fuzz, runCase, caseArbitrary, summarize, FUZZ_PROFILES,
  type FuzzOptions, type FuzzResult, type FuzzFailure, type Case, type Command, type CaseRun,
} from "./fuzzer.js";
export {
  replay, replayFile, parseTrace, formatTrace, runLine, describeDivergence, fieldDifferences, describeField, TRACE_FORMAT,
  type TraceLine, type CreateLine, type OpLine, type Divergence, type FieldDifference, type ReplayOptions, type ReplayResult,
} from "./trace.js";
export { fuzzThreads, summarizeThreads, type ThreadFuzzOptions, type ThreadFuzzResult } from "./threads.js";
export { Run, TraceError, capture, matches, type PoolFactory, type Result } from "./run.js";
export { OPS, OP_BY_NAME, argError, type OpSpec, type ArgSpec, type Args } from "./ops/index.js";
export { Model, observedStats, type ModelStats } from "./model.js";
export { KINDS, FREED, FREED_CODES, type ArgKind, type BadClass, type BadContext, type Encoded, type KindName } from "./values.js";

// Parsers over chains: layouts of the same bytes, and the harness that runs a parser over them.
export {
  chainLayouts, laidOutChains, simplestLayout, laidOut, bytesArbitrary, buildChain, measureChain,
  describeLayout, describeChain, describeBytes, LayoutBuildError,
  type ChainLayout, type MbufLayout, type LayoutOptions, type LaidOutChain, type BuiltChain, type ChainMbuf,
} from "./layouts.js";
export {
  checkChainParser, chainParserProperty, runChainParser, ChainParserFailure, ChainParserError,
  type ChainParser, type ChainParserOptions, type ChainParserRun, type ParseOutcome,
} from "./parser.js";
