// The options of Pool.create, and the tunables they give.

import type { Build } from "../core/module.js";
import type { Clock } from "../clock.js";
import type { ProfileName } from "../tunables/profiles.js";
import type { PacketZoneOptions } from "../packet-zone.js";
import type { NetmOptions } from "../netm.js";
import { readTunablesFile } from "../tunables/rules.js";
import { PROFILES, canonicalName } from "../tunables/profiles.js";
import { optionKeys } from "../validate.js";

/** Options of Pool.create. */
export interface PoolOptions {
  /** The system to model; `freebsd` (modern) by default. */
  profile?: ProfileName;
  /** Tunables under the profile's own names (or their short aliases), over its autosized defaults. */
  tunables?: Record<string, number>;
  /** Core build: `release` by default (or the MBUFPOOL_BUILD environment variable). */
  build?: Build;
  /** Grow memory at creation to the most thewall may reach (maxThewall), as pinned kernel memory: views never go stale. */
  pinned?: boolean;
  /**
   * Create the pool over a shared WebAssembly.Memory that worker threads attach to
   * (pool.shareHandle(), Pool.attach). Implies pinned; has no packet zone unless `packetZone`
   * asks; netm, where on, keeps its period in the creating thread (docs/design.md, Threads).
   */
  shared?: boolean;
  /** Clock for rate limits and timers; the real clock by default. */
  clock?: Clock;
  /** Receives the system's console messages (never written to stdout by the library). */
  logger?: (message: string) => void;
  /**
   * The packet zone (pre-joined mbuf+cluster pairs): options, `true`, or `false` for none.
   * Default: on with mode `median` for the `freebsd` profile, off for the others (their systems had
   * none) and for a shared pool (its m_getcl then takes the pool lock: the packet cache is one list).
   */
  packetZone?: PacketZoneOptions | boolean;
  /** A tunables file (sysctl.conf style `name=value` lines); `tunables` given here win over it. */
  tunablesFile?: string;
  /**
   * Most bytes thewall may be raised to at runtime. The arena's metadata and the
   * WebAssembly memory maximum are laid out for it at creation. Default: on the
   * aix profile 4 x thewall (at least 16 MiB, at most 1 GiB); elsewhere thewall itself
   * (their arena is fixed at boot).
   */
  maxThewall?: number;
  /** netm, deferred growth and shrink: on by default on the aix profile; `true` or settings elsewhere. */
  netm?: boolean | NetmOptions;
  /** Default timeout of waiting requests, in ms (60000; Infinity waits forever). */
  waitTimeoutMs?: number;
  /** How often waiters retry on a `poll` profile (rtems), in ms: its clock tick (10). */
  pollMs?: number;
  /** Clusters only the receive class may take (the reservation tunable *mb_rcv_resv); 0 by default. */
  reserve?: number;
  /** The automatic reservation flag while a receiver waits for a cluster (tunable *mb_rcv_flag); off by default. */
  reserveFlag?: boolean;
}

/** The tunables the options ask for: the file's, then `tunables`, then the reservation options. */
export function givenTunables(options: PoolOptions): Record<string, number> {
  const given: Record<string, number> = options.tunablesFile ? readTunablesFile(options.tunablesFile) : {};
  Object.assign(given, options.tunables ?? {});
  if (options.reserve !== undefined) given["reserve"] = options.reserve;
  if (options.reserveFlag !== undefined) given["reserveFlag"] = options.reserveFlag ? 1 : 0;
  return given;
}

/** Every key PoolOptions has. */
export const POOL_OPTION_KEYS = optionKeys<PoolOptions>({
  profile: 1, tunables: 1, build: 1, pinned: 1, shared: 1, clock: 1, logger: 1, packetZone: 1, tunablesFile: 1,
  maxThewall: 1, netm: 1, waitTimeoutMs: 1, pollMs: 1, reserve: 1, reserveFlag: 1,
});

/** The tunable of some profile `key` names (a tunable given at the top level by mistake), or undefined. */
export function anyTunable(key: string): string | undefined {
  for (const p of Object.values(PROFILES)) {
    const n = canonicalName(p, key);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** The keys of getBulk's options and of netstat's. */
export const BULK_OPTION_KEYS = optionKeys<{ cluster?: boolean; pkthdr?: boolean }>({ cluster: 1, pkthdr: 1 });
export const NETSTAT_OPTION_KEYS = optionKeys<{ format?: string }>({ format: 1 });

/** Options of Pool.attach: what each thread keeps for itself. */
export type AttachOptions = Pick<PoolOptions, "clock" | "logger" | "waitTimeoutMs" | "pollMs">;

/** Every key AttachOptions has. */
export const ATTACH_OPTION_KEYS = optionKeys<AttachOptions>({ clock: 1, logger: 1, waitTimeoutMs: 1, pollMs: 1 });
