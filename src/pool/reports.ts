// A pool's snapshot: the core's counters block read through typed-array views
// (stats/snapshot.ts), completed with what only the host knows: the packet
// balancer's policy, the waits and netm's counters.
// Every report (netstat -m, vmstat -z, JSON, Prometheus, the samplers) is a
// formatter over this one object.

import {
  readSnapshot, NETM_OFF, type PoolStats, type NetmStats, type WaitStats, type PacketPolicyState,
} from "../stats/snapshot.js";
import type { Profile, Values } from "../tunables/profiles.js";

/** Where the counters are, and the host's own figures. */
export interface StatsSources {
  buffer: ArrayBuffer;
  statsAddr: number;
  zoneBytes: number;
  globalOff: number;
  profile: Profile;
  mclbytes: number;
  tunables: Values;
  packet: PacketPolicyState | undefined;
  waits: WaitStats;
  /** netm's counters, or undefined for a pool without netm. */
  netm: NetmStats | undefined;
}

/** The snapshot of a pool now. */
export function poolStats(src: StatsSources): PoolStats {
  const s = readSnapshot(src.buffer, src.statsAddr, src.zoneBytes, src.globalOff, {
    profile: src.profile.name,
    mclbytes: src.mclbytes,
    packet: src.packet,
  });
  s.reservation.auto = src.waits.autoFlag;
  s.waits = src.waits;
  s.netm = src.netm ?? { ...NETM_OFF };
  return s;
}
