// Typed errors: every public entry point reports bad input as an MbufError
// with a stable `code`, never as a trap of the WebAssembly instance.

/** Error codes an MbufError can carry. */
export type MbufErrorCode =
  | "EINVAL" | "ERANGE" | "ENOMEM" | "EBADHANDLE" | "EDOUBLEFREE" | "EBUSY"
  | "ESTATE" | "ECLOSED" | "ETIMEDOUT" | "ENOBUFS" | "ETUNABLE";

/** The core's negative return codes, by name. */
export const CORE_ERRORS: Readonly<Record<number, MbufErrorCode>> = {
  [-22]: "EINVAL",
  [-34]: "ERANGE",
  [-12]: "ENOMEM",
  [-16]: "EBUSY",
  [-1001]: "EBADHANDLE",
  [-1002]: "EDOUBLEFREE",
  [-1003]: "ESTATE",
};

const CORE_MESSAGES: Readonly<Record<string, string>> = {
  EINVAL: "invalid argument",
  ERANGE: "offset or length outside the chain",
  ENOMEM: "memory cannot hold the pool's layout",
  EBUSY: "the mbuf is inside a chain or socket buffer: free its head",
  EBADHANDLE: "not an mbuf handle",
  EDOUBLEFREE: "the mbuf is already free",
  ESTATE: "the core is not in the state this call needs",
};

/** An error from the pool, with a stable machine-readable code. */
export class MbufError extends Error {
  readonly code: MbufErrorCode;
  constructor(code: MbufErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "MbufError";
    this.code = code;
  }
}

/** Turns a negative core result into an MbufError naming the call and its argument. */
export function coreError(result: number, call: string, arg?: number): MbufError {
  const code = CORE_ERRORS[result] ?? "EINVAL";
  const what = CORE_MESSAGES[code] ?? `core error ${result}`;
  return new MbufError(code, arg === undefined ? `${call}: ${what}` : `${call}(${arg}): ${what}`);
}

/** Throws EINVAL unless `v` is an integer in [min, max]. */
export function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new MbufError("EINVAL", `${name} must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
  }
  return v;
}

/** A bad value as a message shows it: strings quoted (so "64" never reads as 64), objects by kind. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (v === null || typeof v !== "object") return String(v);
  if (Array.isArray(v)) return "an array";
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return "an object";
}

/** True if `e` is the error of importing `pkg` when `pkg` is not installed (not a missing module inside it). */
export function isMissingPackage(e: unknown, pkg: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === "ERR_MODULE_NOT_FOUND" || err?.code === "MODULE_NOT_FOUND") && String(err.message).includes(`'${pkg}'`);
}
