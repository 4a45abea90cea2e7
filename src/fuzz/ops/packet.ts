// The packet zone (FreeBSD's cache of pre-joined mbuf+cluster pairs):
// switching its mode, refilling and draining by hand, and one balancing
// epoch. The fuzzer runs the zone without a timer, so these are the only
// ways pairs move besides allocation, free and reclaim. An epoch's decision
// follows the demand window's quartiles: observed, then checked against the
// cache it moved (Model.observeBalance).

import { packetModelOf, type PacketEpochLike } from "../model.js";
import type { Encoded } from "../values.js";
import { modelVoid, runVoid, type OpSpec } from "./spec.js";

export const PACKET_OPS: readonly OpSpec[] = [
  {
    name: "setPacketZone",
    weight: 1,
    args: [{ name: "options", kind: "packetZone" }],
    gen: (_m, r) => ({ options: [{ mode: "median", interval: 0 }, { mode: "watermark", interval: 0 }, { mode: "none", interval: 0 }, false][r[0] % 4] as Encoded }),
    run: runVoid((run, a) => run.pool.setPacketZone(a.options as false)),
    model: modelVoid((m, a) => {
      const o = a.options as { mode: string } | false;
      m.setPacket(packetModelOf(o === false ? null : o));
    }),
  },
  {
    name: "packetRefill",
    weight: 2,
    args: [{ name: "n", kind: "amount" }],
    gen: (_m, r) => ({ n: r[0] % 9 }),
    run: (run, a) => run.pool.packetRefill(a.n as number),
    model: (m, a) => m.packetRefill(a.n as number),
  },
  {
    name: "packetDrain",
    weight: 2,
    args: [{ name: "n", kind: "amount" }],
    gen: (_m, r) => ({ n: r[0] % 3 === 0 ? 2 ** 31 - 1 : r[0] % 9 }),
    run: (run, a) => run.pool.packetDrain(a.n as number),
    model: (m, a) => m.packetDrain(a.n as number),
  },
  {
    name: "packetBalance",
    weight: 1,
    args: [],
    gen: () => ({}),
    run: (run) => ({ ...run.pool.packetBalance() }),
    // The epoch's decision follows the demand window's quartiles: observed, then checked against the cache it moved.
    model: () => undefined,
    observe: (m, run, _a, actual) => m.observeBalance(actual as unknown as PacketEpochLike, run.pool.stats()),
  },
];
