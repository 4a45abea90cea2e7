// The packet zone of a shared pool, seen from every thread. The pairs, the
// mode and the counters are the core's, in the shared memory already, and
// every packet-zone operation runs under the pool lock (assembly/cache.ts
// leaves m_getcl and the free of a pair to it while the zone is on). The
// balancing policy (packet-zone.ts) keeps a window of demand in JS, so it
// runs in one thread: the one whose Pool last set the packet zone (creating
// the pool with one, or setPacketZone), the balancer. Its demand is every
// thread's, read from the shared counters.
//
// What the other threads must see of the policy, its settings and its last
// decision, the balancer writes here under the lock whenever they change;
// pool.packetZone and stats() read them here in every thread, so a report
// says the same whichever thread asks. A thread that sets the packet zone
// writes its own lock id as the balancer: the thread that balanced before
// sees that at its next epoch and stops its timer.
//
// ╒════════════ packet zone area (PACKET_AREA_BYTES, below the tunables) ════════════╕
// │ balancer │ mode │ interval │ batch │ window │ max │ lowat │ hiwat │ target │ low │ high │
// └───────────────────────────────────────────────────────────────────────────────────┘
// Int32 words, written and read under the pool lock.

import type { PacketMode, PacketZoneConfig, PacketDecision, PolicyArea } from "../packet-zone.js";
import { tunablesAddr } from "./shared-tunables.js";

/** Bytes of the packet zone area: one line. */
export const PACKET_AREA_BYTES = 64;
/** Where the packet zone area of a pool whose lock words are at `lockAddr` starts: below the tunables area. */
export const packetAreaAddr = (lockAddr: number): number => tunablesAddr(lockAddr) - PACKET_AREA_BYTES;
const BALANCER = 0, MODE = 1, CONFIG = 2, DECISION = 8;
/** The mode codes of the MODE word (0: no packet zone). */
const MODES: readonly (PacketMode | "off")[] = ["off", "none", "watermark", "median"];
const CONFIG_KEYS = ["interval", "batch", "window", "max", "lowat", "hiwat"] as const;

export class SharedPacketZone implements PolicyArea {
  private readonly w: Int32Array;

  /** The area at `addr` of a shared pool's memory. */
  constructor(buffer: SharedArrayBuffer, addr: number) {
    this.w = new Int32Array(buffer, addr, PACKET_AREA_BYTES / 4);
  }

  /** Writes the settings in force (null: no packet zone) and names `balancer` (a lock id) the balancing thread. */
  publish(config: PacketZoneConfig | null, balancer: number): void {
    const w = this.w;
    w[MODE] = MODES.indexOf(config?.mode ?? "off");
    CONFIG_KEYS.forEach((k, i) => { w[CONFIG + i] = config ? config[k] : 0; });
    this.decide({ target: 0, low: 0, high: 0 });
    Atomics.store(w, BALANCER, config ? balancer : 0);
  }

  /** Writes the balancer's last decision. */
  decide(d: PacketDecision): void {
    this.w[DECISION] = d.target;
    this.w[DECISION + 1] = d.low;
    this.w[DECISION + 2] = d.high;
  }

  /** The lock id of the balancing thread, 0 if no thread balances. */
  get balancer(): number {
    return Atomics.load(this.w, BALANCER);
  }

  /** The settings in force, or null if the pool has no packet zone. */
  settings(): PacketZoneConfig | null {
    const w = this.w, mode = MODES[w[MODE]];
    if (mode === undefined || mode === "off") return null;
    const c: Record<string, unknown> = { mode };
    CONFIG_KEYS.forEach((k, i) => { c[k] = w[CONFIG + i]; });
    return Object.freeze(c) as unknown as PacketZoneConfig;
  }

  /** The last decision. */
  decision(): PacketDecision {
    return { target: this.w[DECISION], low: this.w[DECISION + 1], high: this.w[DECISION + 2] };
  }
}
