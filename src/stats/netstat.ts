// netstat -m in each system's dialect, from one snapshot.

import type { PoolStats } from "./snapshot.js";
import { formatFreeBSD, formatFreeBSD4 } from "./freebsd.js";
import { MbufError } from "../errors.js";

/** A report formatter: one snapshot in, the report's text out. */
export type Formatter = (s: PoolStats) => string;

/** Every `netstat -m` dialect by name. */
export const NETSTAT_FORMATS: Record<string, Formatter> = {
  freebsd: (s) => formatFreeBSD(s),
  freebsd6: (s) => formatFreeBSD(s, true),
  freebsd4: formatFreeBSD4,
};

/** The default dialect of each profile. */
export const PROFILE_FORMAT: Readonly<Record<string, string>> = {
  freebsd: "freebsd",
  freebsd4: "freebsd4",
  rtems: "freebsd4",
  aix: "freebsd4",
};

/** Formats `s` in `format`, or throws EINVAL naming the formats there are. */
export function formatNetstat(s: PoolStats, format: string): string {
  const f = NETSTAT_FORMATS[format];
  if (!f) throw new MbufError("EINVAL", `unknown netstat format "${format}"; choose one of ${Object.keys(NETSTAT_FORMATS).join(", ")}`);
  return f(s);
}
