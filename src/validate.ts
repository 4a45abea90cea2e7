// Argument checks for the Pool's non-numeric arguments (zone names, flags,
// option objects, arrays): a value of the wrong JS type is an MbufError
// EINVAL, never a TypeError from deep inside a method.

import { MbufError, describeValue } from "./errors.js";
import { ZONE_MBUF, ZONE_CLUSTER, ZONE_JUMBOP, ZONE_JUMBO9, ZONE_JUMBO16 } from "./constants.js";

/** A zone's name: the mbuf and cluster zones, and the jumbo zones of the `freebsd` profile. */
export type ZoneName = "mbuf" | "cluster" | "jumbo_page" | "jumbo_9k" | "jumbo_16k";

/**
 * The core zone id of a zone name; EINVAL for anything but a ZoneName, and for a jumbo
 * zone unless `jumbo` (the pool has jumbo zones).
 */
export function zoneId(zone: unknown, call: string, jumbo = false): number {
  if (zone === "mbuf") return ZONE_MBUF;
  if (zone === "cluster") return ZONE_CLUSTER;
  const j = zone === "jumbo_page" ? ZONE_JUMBOP : zone === "jumbo_9k" ? ZONE_JUMBO9 : zone === "jumbo_16k" ? ZONE_JUMBO16 : 0;
  if (j && jumbo) return j;
  if (j) throw new MbufError("EINVAL", `${call}: this pool has no jumbo zones (they are the freebsd profile's), got ${describe(zone)}`);
  throw new MbufError("EINVAL", `${call}: zone must be "mbuf" or "cluster"${jumbo ? ', or "jumbo_page", "jumbo_9k", "jumbo_16k"' : ""}, got ${describe(zone)}`);
}

/** Throws EINVAL unless `v` is a boolean. */
export function checkBool(v: unknown, name: string): boolean {
  if (typeof v !== "boolean") throw new MbufError("EINVAL", `${name} must be true or false, got ${describe(v)}`);
  return v;
}

/**
 * Every key of an options type, as a value (a missing or extra key is a compile error):
 * `optionKeys<SocketOptions>({ pcb: 1, sndHiwat: 1, rcvHiwat: 1 })`.
 */
export function optionKeys<T>(keys: { [K in keyof Required<T>]: 1 }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * Throws EINVAL unless `v` is undefined or a plain object (an options bag); with `known`,
 * also for a key it does not know, naming the closest known one: plain-JS callers are the
 * ones a type does not protect, and a silent default for a typo is the worst answer.
 * @param hint names a better home for an unknown key (for example a tunable), or undefined.
 */
export function checkOptions(v: unknown, name: string, known?: readonly string[], hint?: (key: string) => string | undefined): void {
  if (v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v))) {
    throw new MbufError("EINVAL", `${name} must be an object, got ${describe(v)}`);
  }
  if (v === undefined || known === undefined) return;
  for (const key of Object.keys(v as object)) {
    if (known.includes(key)) continue;
    const better = hint?.(key) ?? closest(key, known);
    throw new MbufError("EINVAL", `${name}: unknown option "${key}"${better ? ` (did you mean ${better}?)` : ""}; it takes ${known.join(", ")}`);
  }
}

/** The known name nearest to `key` (case-insensitive edit distance at most a third of its length), or undefined. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** Edit distance with adjacent transpositions (optimal string alignment): "prot" is one step from "port". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Throws EINVAL unless `v` is an array or a typed array (something with a length and indexes). */
export function checkArrayLike(v: unknown, name: string): void {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new MbufError("EINVAL", `${name} must be an array of handles, got ${describe(v)}`);
  }
}

/**
 * Checks Pool.create's options: known keys (`tunableName` tells a tunable put at the top level
 * where it belongs) and their types (the tunables' values are checked by the profile).
 */
export function checkPoolOptions(o: unknown, known: readonly string[], tunableName: (key: string) => string | undefined): void {
  checkOptions(o, "Pool.create options", known, (key) => {
    const t = tunableName(key);
    return t === undefined ? undefined : `tunables.${key}`;
  });
  if (o === undefined) return;
  const x = o as Record<string, unknown>;
  if (x.profile !== undefined && typeof x.profile !== "string") throw new MbufError("ETUNABLE", `profile must be a name, got ${describe(x.profile)}`);
  if (x.tunables !== undefined && x.tunables !== null && (typeof x.tunables !== "object" || Array.isArray(x.tunables))) {
    throw new MbufError("ETUNABLE", `tunables must be an object of name: value, got ${describe(x.tunables)}`);
  }
  if (x.build !== undefined && x.build !== "debug" && x.build !== "release") {
    throw new MbufError("EINVAL", `build must be "debug" or "release", got ${describe(x.build)}`);
  }
  if (x.pinned !== undefined && typeof x.pinned !== "boolean") checkBool(x.pinned, "pinned");
  const c = x.clock as Record<string, unknown> | undefined;
  if (c !== undefined && (typeof c !== "object" || c === null || typeof c.now !== "function"
    || typeof c.setTimer !== "function" || typeof c.clearTimer !== "function")) {
    throw new MbufError("EINVAL", "clock must be a Clock (now, setTimer, clearTimer)");
  }
  if (x.logger !== undefined && typeof x.logger !== "function") throw new MbufError("EINVAL", `logger must be a function, got ${describe(x.logger)}`);
}

const describe = describeValue;
