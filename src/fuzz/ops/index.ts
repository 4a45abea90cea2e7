// The op table: one entry per trace operation, gathered from its families
// (alloc, chain, copy, recv, sockbuf, packet, manage, reentrant, jumbo). Each entry says how
// to choose valid arguments from the model's state, how to run the
// operation on a pool, how to apply it to the model (its predicted result),
// and which kind each argument is (the kind names the classes of bad value
// the fuzzer and the matrix feed it). A new public operation is one entry
// in its family and one name in TABLE_ORDER.
//
// The order of OPS is part of the fuzzer's behaviour: fast-check draws an op
// by its index among the weighted entries, so a seed names the same cases
// only while the order stays. TABLE_ORDER fixes it; a new op goes at the end
// of the generated ones (before the checkpoints) so old seeds keep their cases.

import { ALLOC_OPS } from "./alloc.js";
import { CHAIN_OPS } from "./chain.js";
import { COPY_OPS } from "./copy.js";
import { RECV_OPS } from "./recv.js";
import { SOCKBUF_OPS } from "./sockbuf.js";
import { PACKET_OPS } from "./packet.js";
import { MANAGE_OPS, CHECKPOINT_OPS } from "./manage.js";
import { REENTRANT_OPS } from "./reentrant.js";
import { JUMBO_OPS } from "./jumbo.js";
import type { OpSpec } from "./spec.js";

export { argError, type OpSpec, type ArgSpec, type Args, type Decoded, type Choices } from "./spec.js";

/** Every op by name, in the order the fuzzer draws them. */
const TABLE_ORDER = [
  "get", "gethdr", "getcl", "clget", "free", "freem", "getBulk", "freemBulk", "chtype", "setOwner",
  "setReserved", "setReserve", "grow", "reclaim",
  "setPacketZone", "packetRefill", "packetDrain", "packetBalance",
  "countWaitFailed", "onDrain", "advance", "netstat",
  "append", "copyback", "copydata", "length", "adj", "dup", "cat",
  "copym", "copypacket", "split", "pullup", "prepend", "defrag",
  "commit", "writable",
  "socreate", "sbwrite", "sbdrop", "sbflush", "sbappend", "sbappendrecord", "sbdroprecord", "sbtake", "sbreserve", "sbsetlowat",
  "sysctlLimit", "soclose", "sysctl",
  // Generated only with the jumbo option (jumbo clusters): without it the ops drawn from are the others.
  "getjcl", "cljget", "freemJumbo", "sysctlJumbo",
  // Generated only with the reentrant option: without it the ops drawn from are the ones above.
  "onDrainThrow", "onExhaustedThrow", "onDrainAudit", "onDrainClose", "drainLog",
  "stats", "audit",
] as const;

/** Orders the families' entries by `order`; every entry must be named exactly once. */
function inOrder(families: readonly (readonly OpSpec[])[], order: readonly string[]): OpSpec[] {
  const byName = new Map<string, OpSpec>();
  for (const op of families.flat()) {
    if (byName.has(op.name)) throw new Error(`op table: "${op.name}" is defined twice`);
    byName.set(op.name, op);
  }
  const ops = order.map((name) => {
    const op = byName.get(name);
    if (!op) throw new Error(`op table: "${name}" is in the order but no family defines it`);
    byName.delete(name);
    return op;
  });
  if (byName.size) throw new Error(`op table: ${[...byName.keys()].join(", ")} missing from the order`);
  return ops;
}

export const OPS: readonly OpSpec[] = inOrder(
  [ALLOC_OPS, CHAIN_OPS, COPY_OPS, RECV_OPS, SOCKBUF_OPS, PACKET_OPS, MANAGE_OPS, REENTRANT_OPS, JUMBO_OPS, CHECKPOINT_OPS], TABLE_ORDER);

/** The op table by name. */
export const OP_BY_NAME: ReadonlyMap<string, OpSpec> = new Map(OPS.map((o) => [o.name, o]));
