// --url, --token-file and --timeout: the options that point a command at a
// running service instead of its demo pool. The URL may come from
// MBUFPOOL_URL and the write key from MBUFPOOL_OPERATOR_TOKEN or a file; the
// key is never an option's value, since a command line shows in ps. The demo
// pool's own options (--profile, --set, a workload) mean nothing for a live
// pool, so giving one with a URL is bad usage rather than silently ignored.

import { readFileSync, statSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { durationArg, UsageError, helpNote } from "./options.js";
import { tokenInClear, type LiveTarget, NO_PERMISSION, UNAVAILABLE } from "./live.js";

/** What the commands with --url add to their help. */
export const DEMO_OR_LIVE =
  "Without --url this is a demo on a throwaway simulated pool made for this run: nothing persists and no real kernel is touched."
  + " With --url URL (or MBUFPOOL_URL) it is live: it reads the operator pages of a running service (serveMetrics in mbufpool/node)"
  + " and prints what the same command prints for a pool in that state.";

/** The exit statuses only a live command has. */
export const LIVE_EXITS = `Live: exit status ${NO_PERMISSION} when the service refuses the write key (none, a wrong one, writes off),`
  + ` ${UNAVAILABLE} when it cannot be reached, does not answer within --timeout, or is not an mbufpool operator endpoint.`;

/** Parsed live options. */
export interface LiveOpts {
  url?: string;
  tokenFile?: string;
  timeout: number;
}

/** Parses a service URL: http or https, nothing secret in it. */
export function urlArg(v: string): string {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw new InvalidArgumentError("expected a URL like http://127.0.0.1:9107");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidArgumentError("expected an http:// or https:// URL");
  if (u.username || u.password) throw new InvalidArgumentError("a URL must not carry credentials (use MBUFPOOL_OPERATOR_TOKEN or --token-file)");
  if (u.search || u.hash) throw new InvalidArgumentError("expected the base URL of the operator pages, without ?query or #fragment");
  return u.href;
}

/**
 * Adds --url, --timeout (and --token-file if the command writes) to `cmd`, and marks the options
 * named in `demoOnly` (attribute names: "profile", "set", ...) as conflicting with --url.
 */
export function liveOptions(cmd: Command, demoOnly: readonly string[], writes = false): Command {
  cmd.addOption(new Option("--url <url>", "act on a running service's operator pages (live) instead of a demo pool")
    .env("MBUFPOOL_URL").argParser(urlArg));
  if (writes) {
    cmd.addOption(new Option("--token-file <file>", "read the write key from a file (else MBUFPOOL_OPERATOR_TOKEN)"));
  }
  cmd.addOption(new Option("--timeout <duration>", "with --url: most time one request may take").argParser(durationArg).default(5000, "5s"));
  for (const o of cmd.options) if (demoOnly.includes(o.attributeName())) o.conflicts("url");
  return cmd.addHelpText("after", helpNote(LIVE_EXITS));
}

/**
 * The service `opts` point at, or undefined for a demo run. The key comes from --token-file
 * (trailing newline dropped), else MBUFPOOL_OPERATOR_TOKEN.
 * @throws UsageError if the token file cannot be read or is empty.
 */
export function liveTarget(opts: LiveOpts): LiveTarget | undefined {
  if (opts.url === undefined) {
    if (opts.tokenFile !== undefined) throw new UsageError("--token-file needs --url (or MBUFPOOL_URL): a demo pool takes no key");
    return undefined;
  }
  let token = process.env.MBUFPOOL_OPERATOR_TOKEN || undefined;
  if (opts.tokenFile !== undefined) {
    try {
      token = readFileSync(opts.tokenFile, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw new UsageError(`--token-file ${opts.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (token === "" || /[\r\n]/.test(token)) throw new UsageError(`--token-file ${opts.tokenFile}: expected the token alone on one line`);
    if (process.platform !== "win32" && (statSync(opts.tokenFile).mode & 0o077) !== 0) {
      process.stderr.write(`mbufpool: warning: ${opts.tokenFile} is readable by other users (chmod 600 it)\n`);
    }
  }
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError("the write key must be printable ASCII without spaces (it travels in an HTTP header)");
  }
  return { url: opts.url, token, timeoutMs: opts.timeout };
}

/** Warns once, before a write, if the key would cross a network in clear. */
export function warnTokenInClear(t: LiveTarget): void {
  if (t.token !== undefined && tokenInClear(t.url)) {
    process.stderr.write(`mbufpool: warning: the write key goes to ${new URL(t.url).host} over plain http; use https or a tunnel\n`);
  }
}
