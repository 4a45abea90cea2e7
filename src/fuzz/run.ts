// A trace running on a real pool: the pool, its virtual clock, the handle
// names the trace has given out, and the decoding of trace values into the
// JS values the pool's methods receive.

import { Pool, type PoolOptions } from "../pool.js";
import { VirtualClock } from "../clock.js";
import { MbufError } from "../errors.js";
import { GL, H, EXT_AT } from "../core/layout.js";
import { M_PKTHDR } from "../constants.js";
import { HANDLE_NAME, isTag, type Encoded } from "./values.js";
import { patternBytes } from "./model.js";

/** Makes the pool a trace runs on (tests pass a wrapper here to check the checkers). */
export type PoolFactory = (options: PoolOptions) => Pool;

/** A result as a trace line records it: a JSON value, `{"error": code}` or `{"crash": text}`. */
export type Result = Encoded;

export class Run {
  readonly clock = new VirtualClock();
  readonly pool: Pool;
  /** Address of each handle the trace got, by 1-based number. */
  private readonly addrs: number[] = [];
  /** Handles the trace has not freed, by name. */
  readonly live = new Map<string, number>();
  /** Names of live handles, by address. */
  private readonly byAddr = new Map<number, string>();
  /** What audits run inside drain routines answered, oldest first (read and cleared by the op drainLog). */
  readonly drainAudits: string[] = [];

  constructor(options: PoolOptions, factory: PoolFactory = Pool.create) {
    this.pool = factory({ ...options, clock: this.clock });
  }

  /** Names a handle the pool just gave out (the next name in allocation order). */
  newHandle(addr: number): string {
    this.addrs.push(addr);
    const name = `h${this.addrs.length}`;
    this.live.set(name, addr);
    this.byAddr.set(addr, name);
    return name;
  }

  /** Records that `name` was freed. */
  freed(name: string): void {
    const addr = this.live.get(name);
    if (addr === undefined) return;
    this.live.delete(name);
    if (this.byAddr.get(addr) === name) this.byAddr.delete(addr);
  }

  /** Records that the handle at `addr` was freed (free() returns addresses). */
  freedAddr(addr: number): void {
    const name = this.byAddr.get(addr);
    if (name) this.freed(name);
  }

  /** The name of the live handle at `addr`, or the address itself. */
  nameOf(addr: number): Encoded {
    return this.byAddr.get(addr) ?? addr;
  }

  /** The address of handle `name` (live or not); throws if the trace never allocated it. */
  addressOf(name: string): number {
    const addr = this.addrs[Number(name.slice(1)) - 1];
    if (addr === undefined) throw new TraceError(`${name} is used before the trace allocated it`);
    return addr;
  }

  /**
   * True if freed handle `name`'s address is in use again: a live handle of
   * the trace, or an mbuf inside some chain or socket buffer (m_type is not
   * MT_FREE), so the name is no "freed handle" to test with.
   */
  reused(name: string): boolean {
    const addr = this.addressOf(name);
    if (this.byAddr.has(addr)) return true;
    const u16 = new Uint16Array(this.pool.buffer);
    return addr + H.flags <= this.pool.buffer.byteLength && u16[(addr + H.type) >>> 1] !== 0;
  }

  /** The JS value a trace value stands for. */
  decode(v: Encoded): unknown {
    if (typeof v === "string") return HANDLE_NAME.test(v) ? this.addressOf(v) : v;
    if (Array.isArray(v)) return v.map((x) => this.decode(x));
    if (v === null || typeof v !== "object") return v;
    if (!isTag(v)) {
      const o: Record<string, unknown> = {};
      for (const [key, x] of Object.entries(v)) o[key] = this.decode(x);
      return o;
    }
    const u32 = new Uint32Array(this.pool.buffer);
    const global = (field: number): number => u32[(this.statsBase() + field) >>> 2];
    switch (v.$) {
      case "NaN": return NaN;
      case "Infinity": return Infinity;
      case "-Infinity": return -Infinity;
      case "-0": return -0;
      case "undefined": return undefined;
      case "bigint": return BigInt(String(v.v));
      case "str": return String(v.v);
      case "obj": return {};
      case "fn": return () => {};
      case "bytes": return Uint8Array.from(patternBytes(Number(v.n), Number(v.s)));
      case "i32s": return Int32Array.from((v.v as Encoded[]).map((x) => Number(this.decode(x))));
      case "plus": return this.addressOf(String(v.h)) + Number(v.d);
      case "cluster": {
        const m = this.addressOf(String(v.h));
        const flags = new Uint16Array(this.pool.buffer)[(m + H.flags) >>> 1];
        return u32[(m + ((flags & M_PKTHDR) ? EXT_AT.pkthdr : EXT_AT.plain)) >>> 2];
      }
      case "len": {
        // Sum of m_len over the chain, bounded by the mbufs in use.
        const i32 = new Int32Array(this.pool.buffer);
        let n = this.addressOf(String(v.h)), len = 0;
        for (let bound = this.pool.stats().mbufs.current; n && bound > 0; bound--) {
          len += i32[(n + H.len) >>> 2];
          n = u32[(n + H.next) >>> 2];
        }
        return len + Number(v.d);
      }
      case "addr":
        switch (v.of) {
          case "stats": return this.pool.core.MB_STATS.value;
          case "xchg": return this.pool.core.MB_XCHG.value;
          case "pagemeta": return global(GL.pageMeta);
          case "reftable": return global(GL.refTable);
          case "arena": return global(GL.arenaBase);
          case "top": return global(GL.arenaBase) + global(GL.top) * 4096;
          case "end": return this.pool.buffer.byteLength;
          case "beyond": return 2 ** 31 - 256;
        }
    }
    throw new TraceError(`unknown tagged value ${JSON.stringify(v)}`);
  }

  private statsBase(): number {
    return this.pool.core.MB_STATS.value + this.pool.core.MB_GLOBAL.value;
  }
}

/** A trace that cannot run (bad JSON, an unknown op, a name used before it exists). */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TraceError";
  }
}

/** Runs `fn` and turns its outcome into a result: the value, `{"error": code}` for an MbufError, `{"crash": text}` otherwise. */
export function capture(fn: () => Result): Result {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MbufError) return { error: e.code };
    if (e instanceof TraceError) throw e;
    return { crash: `${(e as Error)?.name ?? "Error"}: ${(e as Error)?.message ?? String(e)}` };
  }
}

/** True if `actual` meets `expected` (`{"error": [a, b]}` accepts either code). */
export function matches(expected: Result, actual: Result): boolean {
  // An observed op the model found failing where it expected a result: any result but an error (or a crash) matches.
  if (expected === "a result") return !(isObj(actual) && ("error" in actual || "crash" in actual));
  if (isObj(expected) && isObj(actual) && "error" in expected && "error" in actual) {
    const e = expected.error;
    return Array.isArray(e) ? e.includes(actual.error) : e === actual.error;
  }
  return deepEqual(expected, actual);
}

const isObj = (v: unknown): v is Record<string, Encoded> => typeof v === "object" && v !== null && !Array.isArray(v);

function deepEqual(a: Encoded, b: Encoded): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((key) => key in b && deepEqual(a[key], b[key]));
  }
  return false;
}
