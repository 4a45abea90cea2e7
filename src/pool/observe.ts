// The observing layer of the facade: netstat -m, vmstat -z, Prometheus, the
// audit, the outstanding buffers and the leak detector. Every report is a
// formatter over one snapshot (stats(), pool/reports.ts); none calls the core
// per mbuf.

import type { Registry } from "prom-client";
import { MbufError } from "../errors.js";
import { checkOptions } from "../validate.js";
import { readAudit, type AuditResult } from "../core/audit.js";
import { PoolSockets } from "./sockets.js";
import { NETSTAT_OPTION_KEYS } from "./options.js";
import { formatNetstat, PROFILE_FORMAT } from "../stats/netstat.js";
import { formatVmstat, vmstatJSON, type ZoneRow, type ThreadCacheRow, type DepotRow } from "../stats/vmstat.js";
import { PoolMetrics } from "../stats/prometheus.js";
import { outstanding, OUTSTANDING_OPTION_KEYS, type OutstandingOptions, type OutstandingReport } from "../leak/outstanding.js";
import { LeakDetector, LEAK_DETECTOR_OPTION_KEYS, type LeakDetectorOptions } from "../leak/detector.js";

export abstract class PoolReports extends PoolSockets {
  /** `netstat -m` in a system's dialect (the profile's own by default). @throws MbufError EINVAL for an unknown format or options that are not an object. */
  netstat(options: { format?: string } = {}): string {
    checkOptions(options, "netstat options", NETSTAT_OPTION_KEYS);
    return formatNetstat(this.stats(), options.format ?? PROFILE_FORMAT[this.profile.name]);
  }

  /** Recounts everything in the core; reports the first problem found. */
  audit(): AuditResult {
    // Inside a drain routine the operation that ran it holds buffers it has not linked yet:
    // a recount would report them as a problem that is not there.
    if (this.drains.inHook) throw new MbufError("ESTATE", "audit cannot run inside a drain routine or exhausted listener: audit after the operation returns");
    const code = this.ex.mb_audit();
    return readAudit(this.memory.buffer, this.statsAddr + this.globalOff, code);
  }

  /** Throws an MbufError ESTATE if the audit finds a problem. */
  assertAudit(): void {
    const a = this.audit();
    if (!a.ok) throw new MbufError("ESTATE", `audit failed: ${a.message}`);
  }

  // === Reports and leak detection ===

  /**
   * FreeBSD's `vmstat -z` for the pool's zones, then the type census of mbufs in use; on a
   * shared pool, then what each thread's cache holds.
   */
  vmstatZ(): string {
    return formatVmstat(this.stats(), this.lock ? { threads: this.threads(), depot: this.depot() } : undefined);
  }

  /** The pool's zones as `vmstat -z` rows and the census as [type name, in use] pairs, as data (a shared pool's `threads` and `depot` too). */
  zones(): { zones: ZoneRow[]; types: Array<[string, number]>; threads?: ThreadCacheRow[]; depot?: DepotRow } {
    return vmstatJSON(this.stats(), this.lock ? { threads: this.threads(), depot: this.depot() } : undefined);
  }

  /** Every thread of a shared pool (pool/threads.ts). */
  abstract threads(): ThreadCacheRow[];
  /** What a shared pool's depot holds (pool/threads.ts). */
  abstract depot(): DepotRow;

  /** The pool's Prometheus Registry (a fresh one per pool, never prom-client's global registry). */
  get metricsRegistry(): Registry {
    this.promMetrics ??= new PoolMetrics({ profile: this.profile.name });
    return this.promMetrics.registry;
  }

  /** The Prometheus text exposition of a snapshot taken now. */
  metrics(): Promise<string> {
    void this.metricsRegistry;
    return (this.promMetrics as PoolMetrics).text(this.stats());
  }

  /**
   * Every mbuf in use, grouped by owner tag, oldest first (read from memory, no core call per mbuf).
   * @param options.classify names who holds a chain (socket buffers); options.perGroup, options.minAge.
   * @throws MbufError EINVAL for bad options.
   */
  outstanding(options: OutstandingOptions = {}): OutstandingReport {
    checkOptions(options, "outstanding options", OUTSTANDING_OPTION_KEYS);
    return outstanding(this, options);
  }

  /**
   * A leak detector sampling this pool on its clock (started); emits "leak" on the pool.
   * @throws MbufError EINVAL for bad options.
   */
  watchLeaks(options: LeakDetectorOptions = {}): LeakDetector {
    checkOptions(options, "watchLeaks options", LEAK_DETECTOR_OPTION_KEYS);
    this.live();
    return new LeakDetector(this, options).start();
  }
}
