// Argument checks for the Pool's non-numeric arguments (zone names, flags,
// option objects, arrays): a value of the wrong JS type is an MbufError
// EINVAL, never a TypeError from deep inside a method.

import { MbufError } from "./errors.js";
import { ZONE_MBUF, ZONE_CLUSTER } from "./constants.js";

/** The core zone id of a zone name; EINVAL for anything but "mbuf" or "cluster". */
export function zoneId(zone: unknown, call: string): number {
  if (zone === "mbuf") return ZONE_MBUF;
  if (zone === "cluster") return ZONE_CLUSTER;
  throw new MbufError("EINVAL", `${call}: zone must be "mbuf" or "cluster", got ${describe(zone)}`);
}

/** Throws EINVAL unless `v` is a boolean. */
export function checkBool(v: unknown, name: string): boolean {
  if (typeof v !== "boolean") throw new MbufError("EINVAL", `${name} must be true or false, got ${describe(v)}`);
  return v;
}

/** Throws EINVAL unless `v` is undefined or a plain object (an options bag). */
export function checkOptions(v: unknown, name: string): void {
  if (v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v))) {
    throw new MbufError("EINVAL", `${name} must be an object, got ${describe(v)}`);
  }
}

/** Throws EINVAL unless `v` is an array or a typed array (something with a length and indexes). */
export function checkArrayLike(v: unknown, name: string): void {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new MbufError("EINVAL", `${name} must be an array of handles, got ${describe(v)}`);
  }
}

/** Checks Pool.create's options: their types (the tunables' values are checked by the profile). */
export function checkPoolOptions(o: unknown): void {
  checkOptions(o, "Pool.create options");
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

/** A short description of a bad value for a message. */
function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "an array" : "an object";
}
