// mbufpool: the BSD network-buffer allocator as a WebAssembly core with a
// TypeScript host. The public API.

export { Pool, HandleRing, type PoolOptions, type AttachOptions, type ShareHandle, type RingHandle, type DrainRoutine, type PoolMessage,
  type ThreadInfo, type DepotInfo, type FreedReport, type ReapReport, type ReapOptions, type OwnerSet } from "./pool.js";
export { MbufError, type MbufErrorCode } from "./errors.js";
export type { ZoneName } from "./validate.js";
export {
  MT, MT_NAMES, MT_NTYPES, type MbufType, M_EXT, M_PKTHDR, M_EOR, M_RDONLY, M_BCAST, M_MCAST,
  M_NOWAIT, M_WAITOK, M_RECV, MSIZE, MLEN, MHLEN, PAGE_SIZE, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES,
} from "./constants.js";
export {
  PROFILES, getProfile, resolveTunables, type Profile, type ProfileName, type TunableSpec, type Values, type Layout,
} from "./tunables/profiles.js";
export type { PoolStats, ZoneStats, PacketStats } from "./stats/snapshot.js";
export { formatNetstat, NETSTAT_FORMATS } from "./stats/netstat.js";
export type { AuditResult } from "./core/audit.js";
export { RealClock, VirtualClock, type Clock } from "./clock.js";
export type { Build } from "./core/module.js";

// Chains and socket buffers
export { M_COPYALL } from "./constants.js";
export type { SockbufName, SockbufStats, SocketOptions } from "./pool/sockbuf.js";

// Packet zone
export {
  resolvePacketZone, PROFILE_HAS_PACKET_ZONE, type PacketMode, type PacketZoneOptions, type PacketZoneConfig, type PacketEpoch,
} from "./packet-zone.js";
export { netperf, NETPERF_DEFAULTS, type NetperfOptions, type NetperfRound } from "./workloads/netperf.js";

// Operating the pool: waits, netm, tunables at runtime
export {
  parseTunables, readTunablesFile, type TunableInfo, type TunableChange,
} from "./tunables/rules.js";
export type { TunableRuntime } from "./tunables/profiles.js";
export { sizePool, parseSize, formatSize, type SizingInput, type SizingAdvice } from "./tunables/sizing.js";
export type { NetmOptions } from "./netm.js";
export type { NetmStats, WaitStats } from "./stats/snapshot.js";
export type { WaitOptions } from "./waiting/queue.js";

// Observability: reports, leaks
export { formatReport, REPORT_FORMATS, PROFILE_FORMAT, type Formatter } from "./stats/netstat.js";
export { formatFreeBSD, formatFreeBSD4 } from "./stats/freebsd.js";
export { formatAIX, aixFigures, AIX_TYPE_NAMES } from "./stats/aix.js";
export { formatRTEMS } from "./stats/rtems.js";
export { formatJSON, statsJSON, STATS_JSON_SCHEMA, STATS_JSON_VERSION, type StatsJSON, type ZoneJSON } from "./stats/json.js";
export { PoolMetrics, formatPrometheus, METRIC_PREFIX } from "./stats/prometheus.js";
export { formatVmstatZ, formatCensus, zoneRows, typeCensus, type ZoneRow } from "./stats/vmstat.js";
export {
  UsageRecorder, parseSeries, seriesColumns, SERIES_JSON_SCHEMA, SERIES_JSON_VERSION,
  type SeriesJSON, type SeriesColumns,
} from "./sampling/series.js";
export { sampleOf, userOps, type UsageSample } from "./stats/sample.js";
export { usageChart, downsample, type ChartOptions } from "./stats/chart.js";
export {
  outstanding, formatOutstanding, heldBySet, combineClassifiers,
  type OutstandingMbuf, type OwnerGroup, type OutstandingReport, type OutstandingOptions, type HolderClassifier,
} from "./leak/outstanding.js";
export { LeakDetector, type LeakVerdict, type LeakSign, type LeakDiagnosis, type LeakDetectorOptions } from "./leak/detector.js";
export { socketClassifier } from "./leak/socket-holders.js";
export { runScenario, WORKLOADS, OWNER, type ScenarioName, type ScenarioOptions, type ScenarioRun } from "./workloads/leak-workloads.js";
