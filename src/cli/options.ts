// Options shared by several commands, and the one set of value parsers every
// command uses: a bad value is refused while the command line is parsed, with
// a one-line message, before any work starts (exit status 2, see main.ts).

import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { PROFILES } from "../tunables/profiles.js";
import { parseSize } from "../tunables/sizing.js";

/** A command-line mistake found after parsing (a bad operand, a path): exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Formats a bound for messages: 10000000 as 10000000, 2^31-1 as 2147483647. */
const bound = (n: number): string => String(n);

/** Parses an integer from `min` to `max` (decimal digits only: "1e3", "0x10", "5.0" and "" are refused). */
export function integer(min: number, max: number): (v: string) => number {
  return (v: string): number => {
    const n = /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${bound(min)} to ${bound(max)}`);
    }
    return n;
  };
}

/** A seed: an integer from 0 to 2^31 - 1. */
export const seedArg = integer(0, 2 ** 31 - 1);

/** Parses a rate: a number from 0 to 1 ("0.1", ".5", "1"). */
export function rateArg(v: string): number {
  const n = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a rate from 0 to 1, e.g. 0.1");
  return n;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Parses a duration into milliseconds: "500ms", "30s", "5m", "1h", or plain seconds ("90"). At most a week. */
export function durationArg(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? "s") as keyof typeof DURATION_UNITS] : NaN;
  if (!(ms > 0 && ms <= 7 * 24 * 3_600_000)) throw new InvalidArgumentError("expected a duration like 500ms, 30s, 5m or 1h (at most a week)");
  return Math.round(ms);
}

/** Parses a size in bytes as the sizing advisor reads one: "16384", "16k", "64KiB", "2m", "1g". From 1 byte to 1 GiB. */
export function sizeArg(v: string): number {
  let n: number;
  try {
    n = parseSize(v);
  } catch {
    n = NaN;
  }
  if (!(n >= 1 && n <= 1024 ** 3)) throw new InvalidArgumentError("expected a size like 16384, 16k or 2m (1 byte to 1g)");
  return n;
}

/**
 * An output file: its folder must exist and be writable, and the path must not be a folder,
 * so that a long run does not end in a failed write. Returns the path as given.
 */
export function outputPath(v: string): string {
  const problem = outputProblem(v);
  if (problem) throw new InvalidArgumentError(problem);
  return v;
}

/** Why `path` cannot be written, or undefined if it can. */
export function outputProblem(path: string): string | undefined {
  if (path.trim() === "") return "expected a file name";
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    return `the folder ${dir} does not exist`;
  }
  if (!st.isDirectory()) return `${dir} is not a folder`;
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return `the folder ${dir} is not writable`;
  }
  try {
    const f = statSync(path);
    if (f.isDirectory()) return `${path} is a folder, not a file`;
    accessSync(path, constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return `${path} is not writable`;
  }
  return undefined;
}

/** Parses repeated `--set name=value` options into tunables; the value must be an integer. */
export function collectTunable(value: string, previous: Record<string, number> | undefined): Record<string, number> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError("expected name=value, e.g. kern.ipc.nmbclusters=4096");
  const text = value.slice(eq + 1).trim();
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`the value of ${value.slice(0, eq)} must be an integer`);
  }
  return { ...previous, [value.slice(0, eq)]: Number(text) };
}

/** `--profile <name>`, one of the profiles. */
export const profileOption = (): Option =>
  new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("freebsd");

/**
 * `--set name=value`, repeatable. Without `defaults` the option has no default (commands read
 * `opts.set ?? {}`), so help does not print "(default: {})"; with them, help names them.
 */
export const setOption = (defaults?: Record<string, number>): Option => {
  const o = new Option("-s, --set <name=value>", "set a tunable (repeatable), e.g. kern.ipc.nmbclusters=4096").argParser(collectTunable);
  return defaults ? o.default(defaults, Object.entries(defaults).map(([k, v]) => `${k}=${v}`).join(" ")) : o;
};

/** `--file <path>`: a tunables file (sysctl.conf style name=value lines). */
export const fileOption = (): Option =>
  new Option("-f, --file <path>", "read tunables from a file of name=value lines (sysctl.conf / loader.conf style)");

/** `text` as a paragraph of help after the options: a blank line, then lines of at most 80 columns. */
export function helpNote(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > 80) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return `\n${lines.join("\n")}`;
}

/** The sentence the commands that run on a throwaway pool add to their help. */
export const THROWAWAY =
  "It runs on a throwaway simulated pool made for this run: nothing persists and no real kernel is touched.";
