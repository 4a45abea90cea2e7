// Tunables at runtime: get, set, list and reset-to-default over the one
// registry in profiles.ts, and tunables files.
//
// A write is planned here in full before anything changes: the tunable must
// exist, be an integer of its type, be writable at runtime under its
// system's rule (`boot` never, `raise` only upward, as FreeBSD's sysctl
// handler for kern.ipc.nmb* does), keep every tunable within its range, and
// give a layout the live arena can take (thewall no higher than the room the
// pool was created with, no lower than the pages already carved). A refusal
// is an MbufError ETUNABLE naming the tunable, the value and the rule; the
// pool applies a plan only once it is whole (Pool.sysctl).

import { readFileSync } from "node:fs";
import { MbufError } from "../errors.js";
import { PAGE_SIZE, MSIZE } from "../constants.js";
import { canonicalName, checkTunable, jumboOverflow, type Profile, type TunableSpec, type Values, type Layout, type TunableRuntime } from "./profiles.js";

/** One tunable as `sysctl -d` / `no -a` show it: its spec and its current value. */
export interface TunableInfo {
  name: string;
  description: string;
  type: "integer" | "boolean";
  unit: TunableSpec["unit"];
  value: number;
  /** The autosized default, given the current values of the tunables it depends on. */
  default: number;
  min: number;
  max: number;
  rule: string;
  runtime: TunableRuntime;
}

/** A runtime write: what the tunable was and what it is now. */
export interface TunableChange {
  name: string;
  old: number;
  new: number;
}

/** What a planned write needs to know about the live arena. */
export interface ArenaFacts {
  /** Most bytes thewall may be raised to (the room laid out at creation). */
  capBytes: number;
  /** Pages ever carved from the arena: thewall may not drop below them. */
  carvedPages: number;
}

/** A write, checked whole and not yet applied. */
export interface TunablePlan extends TunableChange {
  values: Values;
  layout: Layout;
}

/** The spec of `name` (canonical or alias) in profile `p`, or ETUNABLE naming the choices. */
export function specOf(p: Profile, name: string): TunableSpec {
  const n = canonicalName(p, name);
  const t = n === undefined ? undefined : p.tunables.find((x) => x.name === n);
  if (!t) {
    throw new MbufError("ETUNABLE",
      `unknown tunable "${name}" for profile ${p.name}; it has ${p.tunables.map((x) => x.name).join(", ")}`);
  }
  return t;
}

/** Values of the tunables resolved before `t` (what its default and range may depend on). */
function before(p: Profile, values: Values, t: TunableSpec): Values {
  const v: Record<string, number> = {};
  for (const x of p.tunables) {
    if (x === t) break;
    v[x.name] = values[x.name];
  }
  return v;
}

/** The current value, default, range and rule of one tunable. */
export function tunableInfo(p: Profile, values: Values, name: string): TunableInfo {
  const t = specOf(p, name);
  const prior = before(p, values, t);
  return {
    name: t.name, description: t.description, type: t.type, unit: t.unit,
    value: values[t.name], default: t.default(prior), min: t.min(prior), max: t.max(prior),
    rule: t.rule, runtime: t.runtime,
  };
}

/** Every tunable of the profile, in resolution order. */
export function listTunables(p: Profile, values: Values): TunableInfo[] {
  return p.tunables.map((t) => tunableInfo(p, values, t.name));
}

const refuse = (name: string, value: unknown, why: string): MbufError =>
  new MbufError("ETUNABLE", `${name}=${String(value)} refused: ${why}`);

/**
 * Checks a runtime write of `value` to `name` and returns the values and
 * layout it leads to. Nothing is applied.
 * @throws MbufError ETUNABLE naming the tunable, the value and the rule.
 */
export function planWrite(p: Profile, values: Values, name: string, value: unknown, arena: ArenaFacts): TunablePlan {
  const t = specOf(p, name);
  const old = values[t.name];
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw refuse(t.name, value, `${t.name} takes ${t.type === "boolean" ? "0 or 1" : "an integer"}`);
  }
  if (value === old) return { name: t.name, old, new: value, values, layout: p.layout(values) };
  if (t.runtime === "boot") throw refuse(t.name, value, `${t.name} is read-only at runtime: ${p.bootRule}`);
  if (t.runtime === "raise" && value < old) {
    throw refuse(t.name, value, `a runtime write of ${t.name} may only raise the limit (now ${old})`);
  }
  const next: Record<string, number> = { ...values, [t.name]: value };
  const prior: Record<string, number> = {};
  for (const x of p.tunables) {
    try {
      checkTunable(x, next[x.name], prior);
    } catch (e) {
      if (x === t) throw e;
      throw refuse(t.name, value, `${x.name} (${next[x.name]}) must stay ${x.rule}`);
    }
    prior[x.name] = next[x.name];
  }
  const layout = p.layout(next);
  if (layout.nmbufs * MSIZE > layout.thewall || layout.nmbclusters * p.mclbytes > layout.thewall || jumboOverflow(layout)) {
    throw refuse(t.name, value, `the limits must fit in the arena (${layout.thewall} bytes)`);
  }
  if (layout.thewall > arena.capBytes) {
    throw refuse(t.name, value,
      `thewall may be raised only up to the ${arena.capBytes / 1024} KB the pool was created with room for (Pool.create option maxThewall)`);
  }
  if (Math.floor(layout.thewall / PAGE_SIZE) < arena.carvedPages) {
    throw refuse(t.name, value,
      `thewall may not drop below the ${(arena.carvedPages * PAGE_SIZE) / 1024} KB the pools have already taken`);
  }
  return { name: t.name, old, new: value, values: Object.freeze(next), layout };
}

/**
 * Parses tunables in sysctl.conf / loader.conf style: one `name=value` a line
 * (spaces around `=` and double quotes around the value allowed), `#`
 * comments, blank lines; AIX `no -o name=value` and `sysctl name=value`
 * lines are read the same way, so rc.net-style scripts work too.
 * @param source named in error messages (a file name).
 * @throws MbufError ETUNABLE naming the line for anything else.
 */
export function parseTunables(text: string, source = "tunables"): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/#.*$/, "").trim();
    if (!line) continue;
    line = line.replace(/^(no\s+-o|sysctl(\s+-w)?)\s+/, "");
    const m = /^([A-Za-z_][\w.]*)\s*=\s*"?([^"\s]+)"?$/.exec(line);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !/^-?(\d+|0x[0-9a-f]+)$/i.test(m[2]) || !Number.isSafeInteger(value)) {
      throw new MbufError("ETUNABLE", `${source}:${i + 1}: expected name=integer, got "${lines[i].trim()}"`);
    }
    out[m[1]] = value;
  }
  return out;
}

/** Reads a tunables file (see parseTunables). @throws MbufError ETUNABLE if unreadable or malformed. */
export function readTunablesFile(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new MbufError("ETUNABLE", `cannot read the tunables file ${path}: ${(e as Error).message}`);
  }
  return parseTunables(text, path);
}
