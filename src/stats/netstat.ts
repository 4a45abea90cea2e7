// netstat -m in each system's dialect, from one snapshot.

import type { PoolStats } from "./snapshot.js";
import { formatFreeBSD, formatFreeBSD4 } from "./freebsd.js";
import { formatAIX } from "./aix.js";
import { formatRTEMS } from "./rtems.js";
import { formatJSON } from "./json.js";
import { formatPrometheus } from "./prometheus.js";
import { MbufError } from "../errors.js";

/** A report formatter: one snapshot in, the report's text out. */
export type Formatter = (s: PoolStats) => string;

/** Every `netstat -m` dialect by name. */
export const NETSTAT_FORMATS: Record<string, Formatter> = {
  freebsd: (s) => formatFreeBSD(s),
  freebsd6: (s) => formatFreeBSD(s, true),
  freebsd4: formatFreeBSD4,
  aix: formatAIX,
  rtems: formatRTEMS,
  json: formatJSON,
};

/** Formats whose text is made asynchronously (prom-client renders with promises). */
export const ASYNC_FORMATS: Record<string, (s: PoolStats) => Promise<string>> = {
  prometheus: formatPrometheus,
};

/** Every report format: the netstat dialects, then the asynchronous ones. */
export const REPORT_FORMATS: readonly string[] = [...Object.keys(NETSTAT_FORMATS), ...Object.keys(ASYNC_FORMATS)];

/** The default dialect of each profile. */
export const PROFILE_FORMAT: Readonly<Record<string, string>> = {
  freebsd: "freebsd",
  freebsd4: "freebsd4",
  rtems: "rtems",
  aix: "aix",
};

/** Formats `s` in `format`, or throws EINVAL naming the formats there are. */
export function formatNetstat(s: PoolStats, format: string): string {
  const f = Object.hasOwn(NETSTAT_FORMATS, format) ? NETSTAT_FORMATS[format] : undefined;
  if (!f) {
    const hint = Object.hasOwn(ASYNC_FORMATS, format) ? ` ("${format}" is asynchronous: use formatReport or pool.metrics())` : "";
    throw new MbufError("EINVAL", `unknown netstat format "${format}"${hint}; choose one of ${Object.keys(NETSTAT_FORMATS).join(", ")}`);
  }
  return f(s);
}

/** Formats `s` in any report format, the asynchronous ones included. @throws MbufError EINVAL for an unknown format. */
export async function formatReport(s: PoolStats, format: string): Promise<string> {
  if (Object.hasOwn(ASYNC_FORMATS, format)) return ASYNC_FORMATS[format](s);
  return formatNetstat(s, format);
}
