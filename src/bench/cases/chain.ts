// Chain and socket-buffer cases: mbufpool's data operations against the
// natural Node way of doing the same work, in the same group (the natural
// way is the baseline).

import type { BenchCase, BenchSuite } from "../types.js";
import { Pool } from "../../pool.js";
import { M_NOWAIT, MT, M_PKTHDR } from "../../constants.js";

const pattern = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7) & 255;
  return b;
};

let pool: Pool;
const openPool = (): void => {
  pool = Pool.create({ build: "release" });
};
const closePool = (): void => {
  pool.assertAudit();
  pool.close();
};

// --- copydata of a 1500-byte packet spread over two clusters ---

const COPY_GROUP = "copydata: 1500-byte packet over two clusters";
const seg1 = pattern(848), seg2 = pattern(652);
const out1500 = new Uint8Array(1500);
const outBuf1500 = Buffer.allocUnsafe(1500);
let pkt = 0;
let sink = 0;

// --- append of 64-byte pieces into a socket buffer ---

const APPEND_GROUP = "append 64-byte pieces into a socket buffer";
const PIECES = 256;
const piece = pattern(64);
const linear = Buffer.allocUnsafe(PIECES * 64);
let so = 0;

// --- copym of a 64 KiB chain ---

const COPYM_GROUP = "copym of a 64 KiB chain";
const big = pattern(65536);
const copyTarget = Buffer.allocUnsafe(65536);
let chain = 0;

const cases: BenchCase[] = [
  {
    group: COPY_GROUP,
    name: "Buffer.concat([848 B, 652 B])",
    baseline: true,
    fn() {
      sink ^= Buffer.concat([seg1, seg2], 1500)[7];
    },
  },
  {
    group: COPY_GROUP,
    name: "Buffer.copy x2 into a preallocated Buffer",
    fn() {
      seg1.copy(outBuf1500, 0);
      seg2.copy(outBuf1500, 848);
      sink ^= outBuf1500[7];
    },
  },
  {
    group: COPY_GROUP,
    name: "mbufpool copydata into a preallocated Uint8Array",
    setup() {
      openPool();
      // 3000 bytes over two clusters, then trimmed to 848 + 652.
      pkt = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      pool.copyback(pkt, 0, pattern(3000));
      pool.adj(pkt, 1200);
      pool.adj(pkt, -300);
      if (pool.length(pkt) !== 1500) throw new Error("bench setup: packet is not 1500 bytes");
    },
    fn() {
      pool.copydata(pkt, 0, 1500, out1500);
      sink ^= out1500[7];
    },
    teardown() {
      pool.freem(pkt);
      closePool();
    },
  },
  {
    group: APPEND_GROUP,
    name: "Buffer.copy into a linear buffer",
    baseline: true,
    opsPerCall: PIECES,
    fn() {
      let off = 0;
      for (let i = 0; i < PIECES; i++) off += piece.copy(linear, off);
      sink ^= linear[off - 1];
    },
  },
  {
    group: APPEND_GROUP,
    name: "chunks.push(Buffer.from(piece)) + Buffer.concat",
    opsPerCall: PIECES,
    fn() {
      const chunks: Buffer[] = [];
      for (let i = 0; i < PIECES; i++) chunks.push(Buffer.from(piece));
      sink ^= Buffer.concat(chunks).length;
    },
  },
  {
    group: APPEND_GROUP,
    name: "mbufpool sbwrite (sosend copy, compacting) + sbdrop",
    opsPerCall: PIECES,
    setup() {
      openPool();
      so = pool.socreate({ sndHiwat: PIECES * 64 });
    },
    fn() {
      for (let i = 0; i < PIECES; i++) pool.sbwrite(so, "snd", piece);
      pool.sbdrop(so, "snd", PIECES * 64);
    },
    teardown() {
      pool.soclose(so);
      closePool();
    },
  },
  {
    group: APPEND_GROUP,
    name: "mbufpool get + append + sbappend + sbdrop",
    opsPerCall: PIECES,
    setup() {
      openPool();
      so = pool.socreate({ sndHiwat: PIECES * 64 });
    },
    fn() {
      for (let i = 0; i < PIECES; i++) {
        const m = pool.get();
        pool.append(m, piece);
        pool.sbappend(so, "snd", m);
      }
      pool.sbdrop(so, "snd", PIECES * 64);
    },
    teardown() {
      pool.soclose(so);
      closePool();
    },
  },
  {
    group: COPYM_GROUP,
    name: "subarray (a zero-copy view)",
    baseline: true,
    fn() {
      sink ^= big.subarray(0, 65536)[9];
    },
  },
  {
    group: COPYM_GROUP,
    name: "Buffer.copy into a preallocated Buffer",
    fn() {
      big.copy(copyTarget, 0);
      sink ^= copyTarget[9];
    },
  },
  {
    group: COPYM_GROUP,
    name: "mbufpool copym (clusters shared) + freem",
    setup() {
      openPool();
      chain = pool.gethdr();
      pool.copyback(chain, 0, big);
    },
    fn() {
      const cp = pool.copym(chain);
      pool.freem(cp);
    },
    teardown() {
      pool.freem(chain);
      closePool();
      if (sink === 0.5) console.log(sink); // keeps sink alive
    },
  },
];

/** This file's cases (they need no optional peer). */
export function chainSuite(): BenchSuite {
  return { cases };
}
