// mbufpool size: the sizing advisor (seed 000's reasoning and the AIX guide's).

import { Command, Option } from "commander";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import { sizePool } from "../tunables/sizing.js";
import { integer, sizeArg } from "./options.js";

interface SizeOptions {
  connections: number;
  sockbuf: number;
  pps?: number;
  udp?: boolean;
  profile: ProfileName;
}

export function registerSize(program: Command): void {
  program
    .command("size")
    .description("recommend nmbclusters / nmbufs / thewall for a workload, and print the lines that apply them")
    .requiredOption("-c, --connections <n>", "concurrent connections (1 to 10000000)", integer(1, 10_000_000))
    .addOption(new Option("-b, --sockbuf <bytes>", "socket buffer per direction (16k, 64k, 16384)").argParser(sizeArg).default(16 * 1024, "16k"))
    .option("--pps <n>", "packets per second (0 to 100000000)", integer(0, 100_000_000))
    .option("--udp", "mostly UDP traffic: two mbufs per packet per second (AIX guide)")
    .addOption(new Option("-p, --profile <name>", "system to size for").choices(Object.keys(PROFILES)).default("freebsd"))
    .action((opts: SizeOptions) => {
      const a = sizePool({
        connections: opts.connections,
        sockbuf: opts.sockbuf,
        pps: opts.pps,
        udp: !!opts.udp,
        profile: opts.profile,
      });
      const out = [
        ...a.reasoning.map((l) => `# ${l}`),
        `# recommended: nmbclusters ${a.nmbclusters}, nmbufs ${a.nmbufs}, thewall ${Math.ceil(a.thewallBytes / 1024)} KB`,
        ...a.lines,
      ];
      process.stdout.write(out.map((l) => `${l}\n`).join(""));
    });
}
