// mbufpool netperf: seed 002's leak hunt, replayed on a virtual clock.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import { VirtualClock } from "../clock.js";
import { netperf, NETPERF_DEFAULTS } from "../workloads/netperf.js";
import type { PacketMode } from "../packet-zone.js";
import { setOption } from "./options.js";

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${v}`);
  return n;
};

export function registerNetperf(program: Command): void {
  program
    .command("netperf")
    .description("rounds of bursty traffic then idle, `netstat -m | grep mbuf` after each (seed 002); compare --mode none and median")
    .addOption(new Option("--mode <mode>", "packet zone balancing").choices(["none", "watermark", "median"]).default("median"))
    .option("--rounds <n>", "rounds of traffic", int, NETPERF_DEFAULTS.rounds)
    .option("--send <n>", "segments the sender builds per step (m_get + m_clget)", int, NETPERF_DEFAULTS.send)
    .option("--receive <n>", "packets the receiver takes per step (m_getcl)", int, NETPERF_DEFAULTS.receive)
    .option("--interval <ms>", "balancing epoch of the packet zone", int, 100)
    .addOption(setOption().default({ "kern.ipc.maxmbufmem": 4 << 20, "kern.ipc.nmbclusters": 512 }))
    .action((opts: { mode: PacketMode; rounds: number; send: number; receive: number; interval: number; set: Record<string, number> }) => {
      const clock = new VirtualClock();
      const pool = Pool.create({ profile: "freebsd", clock, tunables: opts.set, packetZone: { mode: opts.mode, interval: opts.interval } });
      process.stdout.write(`# packet zone mode ${opts.mode}: ${opts.rounds} rounds of ${NETPERF_DEFAULTS.steps} steps, then ${NETPERF_DEFAULTS.idleMs} ms idle\n`);
      netperf(pool, clock, { rounds: opts.rounds, send: opts.send, receive: opts.receive }, (r) => {
        const lines = r.report.split("\n").filter((l) => l.includes("mbuf"));
        process.stdout.write(`\n# round ${r.round}${r.wedged ? " (wedged: a sender could not get a cluster)" : ""}\n${lines.join("\n")}\n`);
      });
      const audit = pool.audit();
      process.stdout.write(`\n# audit: ${audit.message}\n`);
      pool.close();
      if (!audit.ok) process.exitCode = 1;
    });
}
