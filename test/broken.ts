// Deliberately broken pools, to prove the fuzzer and the matrix catch a
// missing validation. Each wraps a real pool in a Proxy that replaces one
// method; no product code is broken.
import { Pool, MbufError, M_RECV, type PoolOptions } from "mbufpool";

/** Error codes of the core's negative results (as src/errors.ts). */
const CODES: Record<number, string> = { [-22]: "EINVAL", [-34]: "ERANGE", [-16]: "EBUSY", [-1001]: "EBADHANDLE", [-1002]: "EDOUBLEFREE" };
const fail = (r: number): never => {
  throw new MbufError((CODES[r] ?? "EINVAL") as "EINVAL", `core error ${r}`);
};

/** Wraps `pool` so that `method` is replaced by `impl`. */
function patch(pool: Pool, method: string, impl: (pool: Pool, ...args: unknown[]) => unknown): Pool {
  return new Proxy(pool, {
    get(target, key, receiver) {
      if (key === method) return (...args: unknown[]) => impl(target, ...args);
      return Reflect.get(target, key, receiver);
    },
  });
}

/** The seeded bugs: each a way of making pools with one validation removed. */
export const BROKEN: Record<string, (options: PoolOptions) => Pool> = {
  /** free() hands its argument to the core without checking it is an i32: 2**32 + h frees h. */
  "free without the i32 check": (o) => patch(Pool.create(o), "free", (p, m) => {
    const r = p.core.m_free(m as number);
    return r < 0 ? fail(r) : r;
  }),
  /** freem() treats a double free as done (an "idempotent" free). */
  "freem swallowing EDOUBLEFREE": (o) => patch(Pool.create(o), "freem", (p, m) => {
    try {
      p.freem(m as number);
    } catch (e) {
      if (!(e instanceof MbufError && e.code === "EDOUBLEFREE")) throw e;
    }
  }),
  /** chtype() skips its type check and lets the core see a wrapped value. */
  "chtype without the type check": (o) => patch(Pool.create(o), "chtype", (p, m, type) => {
    if (typeof m !== "number" || (m | 0) !== m) throw new MbufError("EBADHANDLE", "not a handle");
    const r = p.core.m_chtype(m, type as number);
    if (r < 0) fail(r);
  }),
};

/**
 * Seeded bugs of behaviour rather than validation: every argument is still
 * checked, so the matrix cannot see them; only the fuzzer's model can.
 */
export const MISBEHAVING: Record<string, (options: PoolOptions) => Pool> = {
  /** getcl() takes clusters as the receive class, ignoring the reservation. */
  "getcl ignoring the reservation": (o) => patch(Pool.create(o), "getcl", (p, how, type, flags) =>
    p.getcl(((how as number | undefined) ?? 1) | M_RECV, type as number, flags as number)),
  /** packetDrain() leaves one pair parked (the packet cache's figures drift from the model's). */
  "packetDrain one short": (o) => patch(Pool.create(o), "packetDrain", (p, n) =>
    p.packetDrain(typeof n === "number" && n > 0 && Number.isInteger(n) && n <= 2 ** 31 - 1 ? n - 1 : (n as number))),
  /** append() loses the last byte of what it is given (only the chain's bytes show it). */
  "append losing a byte": (o) => patch(Pool.create(o), "append", (p, m, bytes, how) =>
    p.append(m as number, bytes instanceof Uint8Array && bytes.length > 1 ? bytes.subarray(0, bytes.length - 1) : (bytes as Uint8Array), how as number)),
  /**
   * copyback() writes in place through zero-copy views, even into a cluster another chain shares
   * (no copy on write): only the other chain's bytes show it.
   */
  "copyback writing through shared clusters": (o) => patch(Pool.create(o), "copyback", (p, m, off, bytes, how) => {
    if (typeof off === "number" && Number.isInteger(off) && off >= 0 && bytes instanceof Uint8Array && bytes.length
      && off + bytes.length <= p.length(m as number)) {
      p.apply(m as number, off, bytes.length, (view, pos) => view.set(bytes.subarray(pos - off, pos - off + view.length)));
      return true;
    }
    return p.copyback(m as number, off as number, bytes as Uint8Array, how as number);
  }),
  /** grow() asks the core for one item more than it was told. */
  "grow off by one": (o) => patch(Pool.create(o), "grow", (p, zone, free) =>
    p.grow(zone as "mbuf", typeof free === "number" && free >= 0 && free < 2 ** 31 - 1 ? free + 1 : (free as number))),
};
