// mbufpool netperf: seed 002's leak hunt, replayed on a virtual clock.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import { VirtualClock } from "../clock.js";
import { netperf, NETPERF_DEFAULTS } from "../workloads/netperf.js";
import type { PacketMode } from "../packet-zone.js";
import { integer, setOption, THROWAWAY, helpNote } from "./options.js";

const count = integer(1, 1_000_000);

export function registerNetperf(program: Command): void {
  program
    .command("netperf")
    .description("seed 002's loop on a throwaway simulated pool: rounds of bursty traffic then idle, `netstat -m | grep mbuf` after each; compare --mode none and median")
    .addHelpText("after", helpNote(`${THROWAWAY} Exit status 1: the pool does not audit clean at the end.`))
    .addOption(new Option("--mode <mode>", "packet zone balancing").choices(["none", "watermark", "median"]).default("median"))
    .option("--rounds <n>", "rounds of traffic", count, NETPERF_DEFAULTS.rounds)
    .option("--send <n>", "segments the sender builds per step (m_get + m_clget)", integer(0, 1_000_000), NETPERF_DEFAULTS.send)
    .option("--receive <n>", "packets the receiver takes per step (m_getcl)", integer(0, 1_000_000), NETPERF_DEFAULTS.receive)
    .option("--interval <ms>", "balancing epoch of the packet zone", integer(1, 3_600_000), 100)
    .addOption(setOption({ "kern.ipc.maxmbufmem": 4 << 20, "kern.ipc.nmbclusters": 512 }))
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
