// The discrete-event engine of the simulator.
//
// Virtual time in milliseconds. Events run in time order; at equal times,
// higher priority first, then in the order they were scheduled, so a run is
// deterministic for a given seed. The engine is also a Clock, so a Pool
// created with it times its messages, waits and netm on simulated time.
//
// A single CPU serves tasks by priority: work submitted by a task runs when
// the CPU is free and no higher-priority work is ready, and takes its cost
// in simulated time (an MPC860 with caches off is slow: large costs). This
// is what lets a receive task starve, or win, against an application.

import type { Clock } from "../clock.js";
import { Rng } from "./rng.js";

interface Event {
  at: number;
  prio: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap of events by (at, -prio, seq). */
class EventHeap {
  private readonly a: Event[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Event, y: Event): boolean {
    return x.at !== y.at ? x.at < y.at : x.prio !== y.prio ? x.prio > y.prio : x.seq < y.seq;
  }
  push(e: Event): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  peek(): Event | undefined {
    return this.a[0];
  }
  pop(): Event | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

export class Simulator implements Clock {
  readonly rng: Rng;
  private t = 0;
  private seq = 0;
  private readonly heap = new EventHeap();
  private readonly byId = new Map<number, Event>();
  /** Events run so far. */
  events = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  now(): number {
    return this.t;
  }

  /** Runs `fn` at absolute time `at` (not before now); returns an id for cancel. */
  at(at: number, fn: () => void, prio = 0): number {
    const e: Event = { at: Math.max(at, this.t), prio, seq: ++this.seq, fn, cancelled: false };
    this.heap.push(e);
    this.byId.set(e.seq, e);
    return e.seq;
  }

  /** Runs `fn` after `delay` ms. */
  after(delay: number, fn: () => void, prio = 0): number {
    return this.at(this.t + Math.max(0, delay), fn, prio);
  }

  /** Runs `fn` every `period` ms from now + period until it returns false. */
  every(period: number, fn: () => boolean | void, prio = 0): void {
    const tick = (): void => {
      if (fn() !== false) this.after(period, tick, prio);
    };
    this.after(period, tick, prio);
  }

  cancel(id: number): void {
    const e = this.byId.get(id);
    if (e) {
      e.cancelled = true;
      this.byId.delete(id);
    }
  }

  setTimer(fn: () => void, ms: number): number {
    return this.after(ms, fn);
  }

  clearTimer(id: number): void {
    this.cancel(id);
  }

  /** Runs events until time `until` (or until `stop` returns true after an event). */
  run(until: number, stop?: () => boolean): void {
    for (;;) {
      const e = this.heap.peek();
      if (!e || e.at > until) break;
      this.heap.pop();
      if (e.cancelled) continue;
      this.byId.delete(e.seq);
      this.t = e.at;
      this.events++;
      e.fn();
      if (stop?.()) return;
    }
    this.t = Math.max(this.t, until);
  }
}

/** A unit of work a task hands the CPU. */
interface Work {
  task: Task;
  cost: number;
  fn: () => void;
  seq: number;
}

/** A task: a name and a priority (higher runs first). */
export interface Task {
  readonly name: string;
  readonly priority: number;
  /** Milliseconds of CPU this task has used. */
  cpu: number;
}

/** One CPU, non-preemptive per work item, highest-priority ready work first. */
export class Cpu {
  private readonly ready: Work[] = [];
  private busy = false;
  private seq = 0;
  /** Milliseconds the CPU has been busy. */
  busyTime = 0;

  constructor(private readonly sim: Simulator) {}

  task(name: string, priority: number): Task {
    return { name, priority, cpu: 0 };
  }

  /** Queues `fn` to run on the CPU for `cost` ms on behalf of `task`. */
  submit(task: Task, cost: number, fn: () => void): void {
    this.ready.push({ task, cost, fn, seq: ++this.seq });
    if (!this.busy) this.dispatch();
  }

  /** Work items waiting for the CPU, for a task (or all). */
  queued(task?: Task): number {
    return task ? this.ready.filter((w) => w.task === task).length : this.ready.length;
  }

  private dispatch(): void {
    if (!this.ready.length) {
      this.busy = false;
      return;
    }
    let best = 0;
    for (let i = 1; i < this.ready.length; i++) {
      const w = this.ready[i], b = this.ready[best];
      if (w.task.priority > b.task.priority || (w.task.priority === b.task.priority && w.seq < b.seq)) best = i;
    }
    const w = this.ready.splice(best, 1)[0];
    this.busy = true;
    this.sim.after(w.cost, () => {
      w.task.cpu += w.cost;
      this.busyTime += w.cost;
      w.fn();
      this.dispatch();
    }, w.task.priority);
  }
}
