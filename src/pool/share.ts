// Sharing one pool between the threads of a service: the handle a worker
// receives, attaching a second core instance to the same memory, and the
// lock put around a shared pool's core calls and methods (pool/lock.ts).
//
// What attaching must not do is re-initialise the zones. Instantiating a
// module applies its active data segments, and the core's static data (the
// counters block, the exchange areas, the audit's recount tables) is made of
// zero-filled segments: applied again, they would zero a running pool's
// counters. Two guards, either enough alone: the shared-* builds are
// compiled with zeroFilledMemory, so the optimised one has no segment at all
// (a fresh WebAssembly.Memory is zeroed already), and the attaching thread
// holds the pool lock while it instantiates, saving the static range before
// and writing it back after (the debug build keeps its zero segments). The
// core's start function only sets wasm globals to constant addresses. What a
// wasm instance caches of the shared state (the arena's globals: top, the
// free page list, thewall) is re-read from the counters block by mb_attach,
// at attach and whenever the lock comes from another instance.
//
// Shared, in the memory: every zone, freelist, refcount, page, counter, the
// type census and the allocation sequence. Per thread, in JS: owner tags (put
// back into the core when the lock changes hands), drain routines, waiters,
// listeners, the leak detector, the clock and the logger.

import type { Build, CoreImports } from "../core/module.js";
import { instantiateCore } from "../core/module.js";
import type { CoreExports } from "../core/exports.js";
import { MbufError, describeValue } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import { checkLayout, describeCore, memoryPages, STATIC_SLACK, type BootedCore } from "./boot.js";
import { PoolLock, LOCK_BYTES, ESLOW, EBUSY_WRITER } from "./lock.js";
import { THREADS } from "../core/layout.js";
import { threadId } from "node:worker_threads";
import type { Values } from "../tunables/profiles.js";
import type { ProfileName } from "../tunables/profiles.js";

/** What `kind` a share handle carries. */
export const SHARE_KIND = "mbufpool.shared";
/** The handle's format: attach refuses another. */
export const SHARE_VERSION = 1;
const WASM_PAGE = 65536;

/** What Pool.attach needs: a plain object, structured-cloneable (postMessage, workerData). */
export interface ShareHandle {
  kind: typeof SHARE_KIND;
  version: number;
  /** The pool's shared WebAssembly.Memory. */
  memory: WebAssembly.Memory;
  build: Build;
  profile: ProfileName;
  /** The tunables in force (system names): fixed for the pool's life. */
  tunables: Record<string, number>;
  maxThewall: number;
}

const HANDLE_KEYS = optionKeys<ShareHandle>({ kind: 1, version: 1, memory: 1, build: 1, profile: 1, tunables: 1, maxThewall: 1 });

/** The handle of a shared pool. */
export function makeHandle(memory: WebAssembly.Memory, build: Build, profile: ProfileName, values: Values, maxThewall: number): ShareHandle {
  return { kind: SHARE_KIND, version: SHARE_VERSION, memory, build, profile, tunables: { ...values }, maxThewall };
}

/** Checks what Pool.attach was given. @throws MbufError EINVAL naming what is wrong. */
export function checkHandle(h: unknown): ShareHandle {
  if (typeof h !== "object" || h === null || Array.isArray(h)) {
    throw new MbufError("EINVAL", `Pool.attach needs the object pool.shareHandle() returned, got ${describeValue(h)}`);
  }
  const x = h as Record<string, unknown>;
  if (x.kind !== SHARE_KIND) throw new MbufError("EINVAL", `Pool.attach: not a share handle (kind ${describeValue(x.kind)}, want "${SHARE_KIND}")`);
  checkOptions(h, "share handle", HANDLE_KEYS);
  if (x.version !== SHARE_VERSION) {
    throw new MbufError("EINVAL", `Pool.attach: a share handle of version ${describeValue(x.version)}; this mbufpool attaches version ${SHARE_VERSION} (run the same mbufpool in every thread)`);
  }
  if (!(x.memory instanceof WebAssembly.Memory)) throw new MbufError("EINVAL", `Pool.attach: memory must be a WebAssembly.Memory, got ${describeValue(x.memory)}`);
  const buffer: unknown = x.memory.buffer;
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new MbufError("EINVAL", "Pool.attach: the memory is not shared (create the pool with Pool.create({ shared: true }))");
  }
  if (x.build !== "debug" && x.build !== "release") throw new MbufError("EINVAL", `Pool.attach: build must be "debug" or "release", got ${describeValue(x.build)}`);
  if (typeof x.profile !== "string") throw new MbufError("EINVAL", `Pool.attach: profile must be a name, got ${describeValue(x.profile)}`);
  if (typeof x.tunables !== "object" || x.tunables === null) throw new MbufError("EINVAL", `Pool.attach: tunables must be an object, got ${describeValue(x.tunables)}`);
  if (typeof x.maxThewall !== "number" || buffer.byteLength !== memoryPages(x.maxThewall, true) * WASM_PAGE) {
    throw new MbufError("EINVAL", `Pool.attach: the memory (${buffer.byteLength} bytes) is not laid out for maxThewall ${describeValue(x.maxThewall)}`);
  }
  return h as ShareHandle;
}

/**
 * A core instance over the handle's memory, attached to the running pool (no zone
 * initialised), and the lock it takes.
 * @throws MbufError EINVAL if the memory holds no initialised pool, ESTATE if this thread has an
 *   instance over it already (nothing is left changed).
 */
export function attachCore(h: ShareHandle, host: CoreImports): { core: BootedCore; lock: PoolLock } {
  const buffer = h.memory.buffer as unknown as SharedArrayBuffer;
  const lock = new PoolLock(buffer, buffer.byteLength - LOCK_BYTES, false);
  const bytes = new Uint8Array(buffer, 0, STATIC_SLACK);
  try {
    lock.enter();
    try {
      const saved = bytes.slice();
      let ex: CoreExports;
      try {
        ex = instantiateCore(h.build, h.memory, host, true);
      } finally {
        bytes.set(saved);
      }
      checkLayout(ex);
      if (ex.mb_attach() < 0) throw new MbufError("EINVAL", "Pool.attach: the memory holds no initialised pool");
      ex.mb_set_owner(0); // this thread's tag from now on, until it sets one
      const core = describeCore(ex, h.memory, h.maxThewall, true);
      joinThreads(ex, lock);
      lock.claim();
      return { core, lock };
    } finally {
      lock.leave();
    }
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Makes the instance the thread of its lock's slot (the lock held): its caches start empty. */
export function joinThreads(ex: CoreExports, lock: PoolLock): void {
  const r = ex.mb_thread_join(lock.areaAddr, lock.slot, lock.waitersAddr, 0);
  if (r < 0) throw new Error(`mbufpool: the core refused thread slot ${lock.slot} (${r})`);
  // Who holds the slot, for pool.threads() and for reaping it once the thread is gone.
  lock.writeSlot(lock.slot, THREADS.threadId, threadId);
  lock.writeSlot(lock.slot, THREADS.lockId, lock.id);
}

/**
 * The core's exports with every function taking `lock` around the call: what mechanisms
 * that reach the core outside a method (timers, promise continuations) call. The owner tag
 * mb_set_owner sets is remembered as this thread's (`owner`).
 */
export function lockedExports(ex: CoreExports, lock: PoolLock, owner: { tag: number }): CoreExports {
  const out: Record<string, unknown> = {};
  const raw = ex as unknown as Record<string, unknown>;
  for (const name of Object.keys(raw)) {
    const f = raw[name];
    if (typeof f !== "function") {
      out[name] = f;
      continue;
    }
    out[name] = name === "mb_set_owner"
      ? (tag: number): void => { owner.tag = tag; lock.enter(); try { (f as (t: number) => void)(tag); } finally { lock.leave(); } }
      : FAST.has(name) ? fastCall(f as Core, lock) : lockedCall(f as Core, lock);
  }
  return out as unknown as CoreExports;
}

type Core = (a?: number, b?: number, c?: number, d?: number, e?: number) => number;

/** The core calls with a fast path through the thread's cache and lane (assembly/cache.ts, lane.ts). */
const FAST = new Set([
  "m_get", "m_gethdr", "m_getcl", "m_free", "m_freem", "m_setowner_chain", "m_append", "m_get_bulk_lane", "m_freem_bulk_lane",
]);

/**
 * `f` without the lock first: its fast path runs under the thread's slot of the
 * big-reader lock. If another thread holds the lock (EBUSY_WRITER), it waits a moment for it
 * to leave and tries once more; if the fast path cannot serve (ESLOW, or still a writer: it did
 * nothing either way), it is called again holding the lock. Made for `f`'s arity: a wasm
 * export called with more arguments than it declares goes through a slower adaptor.
 */
function fastCall(f: Core, lock: PoolLock): Core {
  const slow = lockedCall(f, lock);
  switch (f.length) {
    case 1: return (a) => {
      let r = f(a);
      // Another thread's lock is held for one call: wait for it rather than queue on the mutex.
      if (r === EBUSY_WRITER && lock.waitWriter()) r = f(a);
      return r !== ESLOW && r !== EBUSY_WRITER ? r : slow(a);
    };
    case 2: return (a, b) => {
      let r = f(a, b);
      if (r === EBUSY_WRITER && lock.waitWriter()) r = f(a, b);
      return r !== ESLOW && r !== EBUSY_WRITER ? r : slow(a, b);
    };
    case 3: return (a, b, c) => {
      let r = f(a, b, c);
      if (r === EBUSY_WRITER && lock.waitWriter()) r = f(a, b, c);
      return r !== ESLOW && r !== EBUSY_WRITER ? r : slow(a, b, c);
    };
    case 4: return (a, b, c, d) => {
      let r = f(a, b, c, d);
      if (r === EBUSY_WRITER && lock.waitWriter()) r = f(a, b, c, d);
      return r !== ESLOW && r !== EBUSY_WRITER ? r : slow(a, b, c, d);
    };
    default: return (a, b, c, d, e) => {
      let r = f(a, b, c, d, e);
      if (r === EBUSY_WRITER && lock.waitWriter()) r = f(a, b, c, d, e);
      return r !== ESLOW && r !== EBUSY_WRITER ? r : slow(a, b, c, d, e);
    };
  }
}

/** `f` under the lock, with its own arity: no rest array on the hot path. */
function lockedCall(f: Core, lock: PoolLock): Core {
  switch (f.length) {
    case 0: return () => { lock.enter(); try { return f(); } finally { lock.leave(); } };
    case 1: return (a) => { lock.enter(); try { return f(a); } finally { lock.leave(); } };
    case 2: return (a, b) => { lock.enter(); try { return f(a, b); } finally { lock.leave(); } };
    case 3: return (a, b, c) => { lock.enter(); try { return f(a, b, c); } finally { lock.leave(); } };
    case 4: return (a, b, c, d) => { lock.enter(); try { return f(a, b, c, d); } finally { lock.leave(); } };
    default: return (a, b, c, d, e) => { lock.enter(); try { return f(a, b, c, d, e); } finally { lock.leave(); } };
  }
}

/**
 * Methods not wrapped: those that reach neither the core nor the shared memory, and the
 * hot ones that make one core call and read nothing shared after it (what they read after,
 * m_aux and bulk_index, is the instance's own): the lock of the exports covers them, one
 * lock cycle a call instead of two. A waiter they serve is served under the lock (base.ts).
 */
const UNLOCKED = new Set([
  "constructor", "badHandle", "argError", "allocError", "jclError", "sizes", "live", "shareHandle",
  "reapThread", // takes the lock itself, once it has lowered the gone thread's reader flag
  "coreXchg", "lane", "bulkArea", "notInBulk", // views (the first takes the lock in mb_lane) and a flag check
  "getBulk", "freemBulk", // their lane calls take the lock if they must
  "append", // its lane path's one core call takes the lock if it must; appendCopy, locked, does the rest
  "get", "gethdr", "getcl", "clget", "getjcl", "cljget", "free", "freem", "chtype", "length", "copym", "copypacket",
  "dup", "defrag", "pullup", "adj", "cat", "split", "getptr", "leadingspace", "trailingspace", "writable",
]);

/**
 * Makes every method of `target` (its prototype chain up to `stop`) run holding `lock`, so
 * a method's core calls and its reads of the exchange areas and the counters are one
 * step for the other threads. The wrappers live on a prototype of this pool's own, put
 * between it and its class: the instance keeps its shape (own properties by the dozen
 * would turn it into a slow dictionary), other pools keep the class's methods.
 */
export function lockMethods(target: object, stop: object, lock: PoolLock): void {
  const proto = Object.getPrototypeOf(target) as object;
  const locked = Object.create(proto) as object;
  const seen = new Set<string>();
  for (let p: object | null = proto; p && p !== stop && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (seen.has(name) || UNLOCKED.has(name)) continue;
      seen.add(name);
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (!d || typeof d.value !== "function") continue;
      Object.defineProperty(locked, name, {
        configurable: true, writable: true, enumerable: false, value: lockedMethod(d.value as Method, lock),
      });
    }
  }
  Object.setPrototypeOf(target, locked);
}

type Method = (this: unknown, ...a: unknown[]) => unknown;

/**
 * `fn` under the lock. It is called with exactly the arguments given (a default
 * parameter applies, `arguments.length` reads true), without a rest array for up to three.
 */
function lockedMethod(fn: Method, lock: PoolLock): Method {
  return function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
    lock.enter();
    try {
      switch (arguments.length) {
        case 0: return fn.call(this);
        case 1: return fn.call(this, a);
        case 2: return fn.call(this, a, b);
        case 3: return fn.call(this, a, b, c);
        default: return fn.apply(this, arguments as unknown as unknown[]);
      }
    } finally {
      lock.leave();
    }
  };
}
