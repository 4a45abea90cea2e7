// The sizing advisor: how many clusters and mbufs a workload needs, with the
// reasoning of the seeds, and the tunable lines that apply it to a profile.
//
// Seed 000 (FreeBSD tuning notes): each connection eats its socket buffers
// for sending and for receiving, so connections x sockbuf x 2 bytes of
// network buffers, "about 32 MB" for 1000 x 16K; double it for a margin
// (64 MB); divide by the cluster size (2K): 32768 clusters. The AIX tuning
// guide (seed 004): for UDP traffic the mbuf pool should be two times the
// packet rate, since each UDP packet takes an extra small mbuf. FreeBSD 4's
// LINT: nmbufs = 4 x nmbclusters. The result is checked against the
// profile's own rules (resolveTunables), so the lines always make a pool.

import { MbufError, checkInt } from "../errors.js";
import { MSIZE, PAGE_SIZE } from "../constants.js";
import { getProfile, resolveTunables, type ProfileName } from "./profiles.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** What the advisor needs to know. */
export interface SizingInput {
  /** Concurrent connections. */
  connections: number;
  /** Socket buffer per direction, in bytes (16 KiB in seed 000). */
  sockbuf: number;
  /** Packets per second, if known. */
  pps?: number;
  /** Mostly UDP traffic (an NFS server): two mbufs per packet per second. */
  udp?: boolean;
  /** The system to size for (`freebsd` by default). */
  profile?: ProfileName;
}

/** The advice. */
export interface SizingAdvice {
  profile: ProfileName;
  /** connections x sockbuf x 2 (send + receive). */
  bufferBytes: number;
  /** That rounded up to whole megabytes, as the seed does ("about 32 MB"). */
  roundedBytes: number;
  /** Doubled for a margin. */
  marginBytes: number;
  clusterBytes: number;
  nmbclusters: number;
  /** mbufs the packet rate needs (2 x pps for UDP, 1 x pps otherwise, 0 without a rate). */
  trafficMbufs: number;
  nmbufs: number;
  /** Memory the pools need: nmbclusters x cluster size + nmbufs x MSIZE, page-rounded (thewall, mb_map). */
  thewallBytes: number;
  /** The tunables to apply, under the profile's names. */
  tunables: Record<string, number>;
  /** The reasoning, one step a line. */
  reasoning: string[];
  /** Lines that apply it: a tunables file (sysctl.conf / loader.conf style) or AIX `no -o` commands. */
  lines: string[];
}

/** "16K", "2K", "64 MB", "31.25 MB": sizes as the seed writes them. */
export function formatSize(bytes: number): string {
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(2)} MB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(2)}K`;
  return `${bytes} bytes`;
}

/** Parses "16k", "16K", "2m", "16384" into bytes. @throws MbufError EINVAL otherwise. */
export function parseSize(text: string, name = "size"): number {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) throw new MbufError("EINVAL", `${name} must be a byte count like 16384, 16k or 1m, got "${text}"`);
  const mult = { "": 1, k: KiB, m: MiB, g: 1024 * MiB }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}

/**
 * Recommends nmbclusters, nmbufs and thewall for a workload, with seed 000's
 * and the AIX guide's reasoning, and the lines to apply them to `profile`.
 * @throws MbufError EINVAL for a bad input, ETUNABLE if the result exceeds what the profile can hold.
 */
export function sizePool(input: SizingInput): SizingAdvice {
  const connections = checkInt(input.connections, "connections", 1, 10_000_000);
  const sockbuf = checkInt(input.sockbuf, "sockbuf", 1, 1024 * MiB);
  const pps = checkInt(input.pps ?? 0, "pps", 0, 100_000_000);
  const profile = getProfile(input.profile ?? "freebsd");
  const cl = profile.mclbytes;
  const bufferBytes = connections * sockbuf * 2;
  const roundedBytes = Math.ceil(bufferBytes / MiB) * MiB;
  const marginBytes = roundedBytes * 2;
  const nmbclusters = Math.ceil(marginBytes / cl);
  const trafficMbufs = input.udp ? 2 * pps : pps;
  const fourX = profile.name === "freebsd4" ? 4 * nmbclusters : 0;
  const nmbufs = Math.max(nmbclusters + trafficMbufs, fourX);
  const pages = Math.ceil((nmbclusters * cl) / PAGE_SIZE) + Math.ceil((nmbufs * MSIZE) / PAGE_SIZE);
  const thewallBytes = pages * PAGE_SIZE;

  const reasoning = [
    `${connections} connections x ${formatSize(sockbuf)} socket buffers x 2 (send + receive) = ${formatSize(bufferBytes)}` +
      (roundedBytes !== bufferBytes ? `, about ${formatSize(roundedBytes)}` : ""),
    `doubled for a margin: ${formatSize(roundedBytes)} x 2 = ${formatSize(marginBytes)}`,
    `${formatSize(marginBytes)} / ${formatSize(cl)} per cluster = ${nmbclusters} clusters`,
  ];
  if (pps) {
    reasoning.push(input.udp
      ? `UDP at ${pps} packets/s: 2 x ${pps} = ${trafficMbufs} mbufs (each UDP packet takes an extra small mbuf; AIX tuning guide)`
      : `${pps} packets/s: ${trafficMbufs} mbufs (one per packet)`);
  }
  reasoning.push(fourX && fourX >= nmbclusters + trafficMbufs
    ? `nmbufs = 4 x nmbclusters = ${nmbufs} (FreeBSD 4 LINT: NMBUFS autosizes to 4 times NMBCLUSTERS)`
    : `nmbufs = ${nmbclusters} (one per cluster)${trafficMbufs ? ` + ${trafficMbufs}` : ""} = ${nmbufs}`);
  reasoning.push(`memory: ${nmbclusters} x ${formatSize(cl)} + ${nmbufs} x 256 = ${formatSize(thewallBytes)} (${Math.ceil(thewallBytes / KiB)} KB)`);

  const tunables: Record<string, number> = {};
  const lines: string[] = [];
  switch (profile.name) {
    case "freebsd": {
      const maxmbufmem = Math.ceil(thewallBytes / MiB) * MiB;
      const physmem = 2 * maxmbufmem;
      if (physmem > 64 * MiB) tunables["hw.physmem"] = physmem;
      tunables["kern.ipc.maxmbufmem"] = maxmbufmem;
      tunables["kern.ipc.nmbclusters"] = nmbclusters;
      tunables["kern.ipc.nmbufs"] = nmbufs;
      reasoning.push(`kern.ipc.maxmbufmem holds it: ${formatSize(maxmbufmem)}` +
        (tunables["hw.physmem"] ? `, on a machine of ${formatSize(physmem)} (maxmbufmem defaults to half of it)` : ""));
      for (const [k, v] of Object.entries(tunables)) lines.push(`${k}=${v}`);
      break;
    }
    case "freebsd4":
      tunables["kern.ipc.nmbclusters"] = nmbclusters;
      tunables["kern.ipc.nmbufs"] = nmbufs;
      reasoning.push("set in /boot/loader.conf and reboot: the mb_map is sized at boot");
      for (const [k, v] of Object.entries(tunables)) lines.push(`${k}="${v}"`);
      break;
    case "rtems":
      tunables["mbuf_bytecount"] = nmbufs * MSIZE;
      tunables["mbuf_cluster_bytecount"] = nmbclusters * cl;
      reasoning.push("rtems_bsdnet_config: the pools are carved once at start-up");
      for (const [k, v] of Object.entries(tunables)) lines.push(`${k}=${v}`);
      break;
    case "aix": {
      tunables["thewall"] = Math.ceil(thewallBytes / KiB);
      if (trafficMbufs) tunables["lowmbuf"] = trafficMbufs;
      reasoning.push("thewall caps what netm may grow the pools to" +
        (trafficMbufs ? "; lowmbuf makes netm keep the packet rate's mbufs free" : ""));
      for (const [k, v] of Object.entries(tunables)) lines.push(`no -o ${k}=${v}`);
      break;
    }
  }
  try {
    resolveTunables(profile, tunables);
  } catch (e) {
    throw new MbufError("ETUNABLE", `the workload needs more than the ${profile.name} profile can hold: ${(e as Error).message}`);
  }
  return {
    profile: profile.name, bufferBytes, roundedBytes, marginBytes, clusterBytes: cl, nmbclusters, trafficMbufs,
    nmbufs, thewallBytes, tunables, reasoning, lines,
  };
}
