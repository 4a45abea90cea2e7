// Every timer in the host goes through a Clock, so the simulator and the
// tests can run hours of pool life in milliseconds with a VirtualClock.

/** A source of time and timers, in milliseconds. */
export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Calls `fn` after `ms`; returns an id for clearTimer. */
  setTimer(fn: () => void, ms: number): number;
  /** Cancels a timer; unknown ids are ignored. */
  clearTimer(id: number): void;
}

/** The real clock: performance.now() and Node's timers (unref'd, so a pool never keeps a process alive). */
export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;
  now(): number {
    return performance.now();
  }
  setTimer(fn: () => void, ms: number): number {
    const id = this.next++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    t.unref();
    this.timers.set(id, t);
    return id;
  }
  clearTimer(id: number): void {
    const t = this.timers.get(id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(id);
    }
  }
}

/** A clock that moves only when told to; timers fire in time order during advance(). */
export class VirtualClock implements Clock {
  private t = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): number {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, seq: id });
    return id;
  }
  clearTimer(id: number): void {
    this.timers.delete(id);
  }
  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void; seq: number }] | undefined;
      for (const e of this.timers) {
        if (e[1].at <= end && (!due || e[1].at < due[1].at || (e[1].at === due[1].at && e[1].seq < due[1].seq))) due = e;
      }
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }
}

/**
 * Calls `fn` every `ms` on `clock` until the returned ticker is stopped or
 * `alive()` turns false (e.g. the pool closed). One timer is pending at a time.
 */
export class Ticker {
  private timer = 0;
  private running = true;
  constructor(private readonly clock: Clock, private readonly ms: number, fn: () => void, alive: () => boolean = () => true) {
    const tick = (): void => {
      if (!this.running) return;
      if (!alive()) {
        this.running = false;
        return;
      }
      fn();
      this.timer = this.clock.setTimer(tick, this.ms);
    };
    this.timer = this.clock.setTimer(tick, this.ms);
  }
  /** True until stopped (or until `alive()` turned false at a tick). */
  get active(): boolean {
    return this.running;
  }
  stop(): void {
    this.running = false;
    this.clock.clearTimer(this.timer);
  }
}
