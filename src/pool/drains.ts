// What happens when an allocation finds its zone empty: the core calls the
// host's `exhausted` import from inside the allocation, and the host
//   1. asks netm for a tick (growth is deferred, never done in the hook),
//   2. emits `exhausted` and the system's console message (rate-limited per
//      zone, as the kernels printed it at most once per interval),
//   3. runs the protocol drain routines (m_reclaim) if the profile's rule
//      says so: `always`, `wait` (only for M_WAITOK requests) or `never`.
// The answer tells the core whether to try the zone once more.
//
// Drain routines run in registration order, once per hook; a drain routine
// whose own allocation fails does not start them again (no recursion). A
// routine that throws is reported as `drainError` and the others still run.
//
// Everything here is user code running while the core is inside an
// allocation, and an exception must never unwind through the core's frames:
// it would leave the operation half done (an mbuf taken and never given
// back). So each listener, the logger and each drain routine is called on its
// own and what it throws is caught: a drain routine's error becomes
// `drainError`, a listener's or the logger's `callbackError` (source, error),
// and an error thrown by the listener of one of those two is handed to
// process.emitWarning, the end of the line. User code may also call back into
// the pool: the core treats whatever it does as a drain routine's doing.

import type { Clock } from "../clock.js";
import type { Profile } from "../tunables/profiles.js";
import { MbufError } from "../errors.js";
import { M_WAITOK, ZONE_MBUF, ZONE_JUMBOP, ZONE_JUMBO16 } from "../constants.js";

/** A console message of the modelled system. */
export interface PoolMessage {
  text: string;
  zone: "mbuf" | "cluster";
  at: number;
}

/** What the hook needs of the pool: its listeners, and the object handed to drain routines. */
export interface DrainHost<P> {
  /** The listeners of `event` as registered (once-wrappers included, so that calling one removes it). */
  rawListeners(event: string): Function[];
  /** The pool as drain routines receive it. */
  readonly target: P;
  /** Asks netm for a tick, if the pool has netm. */
  kickNetm(): void;
}

interface Entry<P> {
  name: string;
  fn: (pool: P) => void;
}

export class Drains<P> {
  private readonly routines: Entry<P>[] = [];
  private readonly lastMessage = new Map<string, number>();
  private running = false;
  /** Hooks in progress: nonzero while the core is inside an allocation that called out. */
  private depth = 0;

  constructor(
    private readonly host: DrainHost<P>,
    private readonly profile: Profile,
    private readonly clock: Clock,
    private readonly logger: ((message: string) => void) | undefined,
  ) {}

  /** True while the core's `exhausted` hook runs (the core is inside an allocation). */
  get inHook(): boolean {
    return this.depth !== 0;
  }

  /**
   * Registers a drain routine, by name or by the function's own name.
   * @returns a function that unregisters it.
   * @throws MbufError EINVAL unless given a function, optionally after a name.
   */
  register(nameOrFn: string | ((pool: P) => void), fn?: (pool: P) => void): () => void {
    const entry = typeof nameOrFn === "function"
      ? { name: nameOrFn.name || `drain${this.routines.length}`, fn: nameOrFn }
      : { name: nameOrFn, fn: fn as (pool: P) => void };
    if (typeof entry.fn !== "function" || typeof entry.name !== "string") {
      throw new MbufError("EINVAL", "onDrain needs a function, optionally after a name (a string)");
    }
    this.routines.push(entry);
    return () => {
      const i = this.routines.indexOf(entry);
      if (i >= 0) this.routines.splice(i, 1);
    };
  }

  /** The core's `exhausted` import: 1 if drain routines ran (the core retries), else 0. */
  readonly exhausted = (zone: number, how: number): number => {
    this.depth++;
    try {
      return this.onExhausted(zone, how);
    } finally {
      this.depth--;
    }
  };

  private onExhausted(zone: number, how: number): number {
    // A jumbo zone is a cluster zone: the event and the drain rule are the cluster's, the message its own.
    const name = zone === ZONE_MBUF ? "mbuf" : "cluster";
    this.host.kickNetm();
    this.deliver("exhausted", [name, how]);
    const jumbo = zone >= ZONE_JUMBOP && zone <= ZONE_JUMBO16;
    const text = jumbo ? this.profile.exhaustedMessage.jumbo?.[zone - ZONE_JUMBOP] : this.profile.exhaustedMessage[name];
    if (text) this.say(name, text);
    const rule = this.profile.drain[name];
    if (this.running || rule === "never" || (rule === "wait" && !(how & M_WAITOK))) return 0;
    this.running = true;
    try {
      for (const d of [...this.routines]) {
        try {
          d.fn(this.host.target);
        } catch (e) {
          this.report("drainError", [d.name, e]);
        }
      }
    } finally {
      this.running = false;
    }
    return 1;
  }

  /** Emits a console message, at most once per the profile's interval per message (each zone has its own). */
  private say(zone: "mbuf" | "cluster", text: string): void {
    const now = this.clock.now();
    const last = this.lastMessage.get(text);
    if (last !== undefined && now - last < this.profile.exhaustedMessage.everyMs) return;
    this.lastMessage.set(text, now);
    this.message(zone, text);
  }

  /** Delivers a console message of the modelled system: the `message` event and the logger. */
  readonly message = (zone: "mbuf" | "cluster", text: string): void => {
    const msg: PoolMessage = { text, zone, at: this.clock.now() };
    this.deliver("message", [msg]);
    if (this.logger) {
      try {
        this.logger(text);
      } catch (e) {
        this.report("callbackError", ["logger", e]);
      }
    }
  };

  /** A line for the logger alone (a tunable write, not a console message of the modelled system). */
  log(text: string): void {
    if (!this.logger) return;
    try {
      this.logger(text);
    } catch (e) {
      this.report("callbackError", ["logger", e]);
    }
  }

  /** Calls every listener of `event`, each on its own: one that throws is reported and the others still run. */
  deliver(event: string, args: unknown[]): void {
    for (const fn of this.host.rawListeners(event)) {
      try {
        fn.apply(this.host.target, args);
      } catch (e) {
        this.report("callbackError", [event, e]);
      }
    }
  }

  /** Reports a caught error to the listeners of `event`; what they throw goes to process.emitWarning. */
  private report(event: "drainError" | "callbackError", args: [string, unknown]): void {
    const listeners = this.host.rawListeners(event);
    if (listeners.length === 0) {
      const who = event === "drainError" ? `the drain routine ${args[0]}` : `a ${args[0]} callback`;
      warn(`${who} threw inside an allocation (caught; listen for "${event}")`, args[1]);
    }
    for (const fn of listeners) {
      try {
        fn.apply(this.host.target, args);
      } catch (e) {
        warn(`a ${event} listener threw (caught)`, e);
      }
    }
  }
}

/** The last resort for an error no listener took: a process warning, never an exception through the core. */
function warn(what: string, e: unknown): void {
  const detail = e instanceof Error ? e.message : String(e);
  process.emitWarning(`mbufpool: ${what}: ${detail}`, { code: "MBUFPOOL_CALLBACK" });
}
