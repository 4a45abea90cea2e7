// The report commands of the CLI, run as a user would (the built dist/).
import { describe, it, expect } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPORT_FORMATS, parseSeries } from "mbufpool";

const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const cli = (...args: string[]): string => execFileSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
/** Runs a command that exits 1 on a finding: its output, checking the status. */
const finding = (...args: string[]): string => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(1);
  return r.stdout;
};

describe("mbufpool report commands", () => {
  it("--help lists every command", () => {
    const help = cli("--help");
    for (const c of ["netstat", "vmstat", "leaks", "watch"]) expect(help).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(cli("netstat", "--help").replace(/\s+/g, " ")).toContain(`choices: ${REPORT_FORMATS.map((f) => `"${f}"`).join(", ")}`);
  });

  it("netstat -m prints every dialect", () => {
    const first: Record<string, RegExp> = {
      freebsd: /^\d+\/\d+\/\d+ mbufs in use \(current\/cache\/total\)$/m,
      freebsd6: /^\d+ calls to protocol drain routines$/m,
      freebsd4: /^\d+\/\d+\/\d+ mbufs in use \(current\/peak\/max\):$/m,
      aix: /^\d+\/\d+ mapped pages in use$/m,
      rtems: /^\*{12} MBUF STATISTICS \*{12}$/m,
      prometheus: /^mbufpool_zone_denied_total\{zone="cluster",profile="freebsd"\} 16$/m,
    };
    for (const [format, re] of Object.entries(first)) expect(cli("netstat", "-m", "--format", format)).toMatch(re);
    const j = JSON.parse(cli("netstat", "-m", "--json", "-p", "aix"));
    expect(j.worst.profile).toBe("aix");
    expect(j.worst.zones.cluster.denied).toBe(16);
    expect(j.after.zones.cluster.inUse).toBe(0);
    expect(j.audit).toBe("clean");
  });

  it("vmstat -z prints the zone table, or JSON", () => {
    expect(cli("vmstat", "-z")).toMatch(/^mbuf_cluster: +2048, +4096, +4096, +0, +4096, +16, +0$/m);
    const j = JSON.parse(cli("vmstat", "-z", "--json", "-p", "rtems"));
    expect(j.worst.zones[2]).toMatchObject({ item: "mbuf_cluster", size: 2048, limit: 64, used: 64, fail: 16 });
  });

  it("leaks finds the built-in leak and the unread socket, and exits 1 when it flags one", () => {
    const leak = JSON.parse(finding("leaks", "--json"));
    expect(leak.verdicts.map((v: { sign: string; diagnosis: string }) => `${v.sign}/${v.diagnosis}`)).toEqual(["rising/leak", "idle-high/leak"]);
    expect(leak.outstanding.groups[0]).toMatchObject({ owner: 2, count: 120 });
    const unread = finding("leaks", "-w", "unread");
    expect(unread).toMatch(/rising -> unread-socket/);
    expect(cli("leaks", "-w", "sawtooth")).toMatch(/^no leak signs$/m);
  });

  it("watch draws a chart and exports the series", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      const out = join(dir, "series.json");
      const text = cli("watch", "--ticks", "30", "--idle", "5", "--height", "4", "--out", out);
      // Every packet of the workload is an mbuf with a cluster: one chart, not the same one twice.
      expect(text).toMatch(/^mbufs in use = clusters in use \(36 samples over 35\.0 s\)$/m);
      expect(text.match(/ 0 ┼/g)).toHaveLength(1);
      expect(text).not.toMatch(/^clusters in use/m);
      const series = parseSeries(JSON.parse(readFileSync(out, "utf8")));
      expect(series.samples).toHaveLength(36);
      expect(parseSeries(JSON.parse(cli("watch", "--json", "--ticks", "10", "--idle", "1"))).samples).toHaveLength(12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
