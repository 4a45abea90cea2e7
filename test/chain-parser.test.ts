// Parsers over chains (mbufpool/fuzz layouts and harness): the layouts build
// what they describe and shrink to the simplest; the harness catches each
// thing a parser must not do, a naive parser that assumes its header sits in
// the first mbuf with a shrunk layout, and passes the fixed ones; the DNS
// query parser holds on every layout, malformed and lying queries included.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import type { Pool } from "mbufpool";
import {
  chainLayouts, laidOutChains, simplestLayout, buildChain, describeLayout, describeChain,
  checkChainParser, chainParserProperty, runChainParser, laidOut, ChainParserError, type ChainParser,
} from "mbufpool/fuzz";
import { parseQuery, parseQueryChain, buildQuery } from "../src/proto/dns.js";
import { makePool, pattern } from "./helpers.js";

/** Mbufs and clusters in use: every test gives back what it took. */
const inUse = (pool: Pool): [number, number] => [pool.stats().mbufs.current, pool.stats().clusters.current];

// === A record format: a 2-byte big-endian length, then that many bytes ===

/** The record parsers' documented error: the input is not a record. */
class RecordError extends Error {
  override name = "RecordError";
}
const isRecordError = (e: unknown): boolean => e instanceof RecordError;

/** Naive: assumes the first mbuf holds the 2-byte header (no m_pullup), reading it with data(m). */
const naiveRecord: ChainParser<number[]> = (pool, m) => {
  const first = pool.data(m);
  const len = (first[0] << 8) | first[1];
  if (2 + len > pool.length(m)) throw new RecordError("the length field claims more than the chain holds");
  return Array.from(pool.copydata(m, 2, len));
};

/** Fixed: copies the header out with copydata, wherever it lies, and checks the length against the chain. */
const copyingRecord: ChainParser<number[]> = (pool, m) => {
  if (pool.length(m) < 2) throw new RecordError("too short for the length field");
  const header = pool.copydata(m, 0, 2);
  const len = (header[0] << 8) | header[1];
  if (2 + len > pool.length(m)) throw new RecordError("the length field claims more than the chain holds");
  return Array.from(pool.copydata(m, 2, len));
};

/** Fixed the kernel's way: m_pullup makes the header contiguous, then data() reads it. It takes the chain over. */
const pullupRecord: ChainParser<number[]> = (pool, m) => {
  let head = m;
  try {
    if (pool.length(head) < 2) throw new RecordError("too short for the length field");
    const pulled = pool.pullup(head, 2);
    if (pulled === 0) throw new Error("pullup: no mbuf"); // the chain is kept: freed below
    head = pulled;
    const first = pool.data(head);
    const len = (first[0] << 8) | first[1];
    if (2 + len > pool.length(head)) throw new RecordError("the length field claims more than the chain holds");
    return Array.from(pool.copydata(head, 2, len));
  } finally {
    pool.freem(head);
  }
};

const record = (payload: number[]): Uint8Array => Uint8Array.from([payload.length >> 8, payload.length & 255, ...payload]);
/** Records, some with a length that lies, some too short, some with bytes after the record. */
const records: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map(record),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }), fc.integer({ min: 1, max: 3000 }))
    .map(([p, lie]) => { const b = record(p); b[0] = (p.length + lie) >> 8; b[1] = (p.length + lie) & 255; return b; }),
  fc.uint8Array({ maxLength: 3 }),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 30 }), fc.uint8Array({ minLength: 1, maxLength: 30 }))
    .map(([p, trailer]) => Uint8Array.from([...record(p), ...trailer])),
);

describe("chain layouts", () => {
  it("build exactly what they describe, holding the bytes, with nothing kept after free()", () => {
    const pool = makePool();
    const before = inUse(pool);
    fc.assert(fc.property(laidOutChains(fc.uint8Array({ maxLength: 5000 })), (c) => {
      const built = buildChain(pool, c.bytes, c.layout);
      try {
        expect(Buffer.from(pool.copydata(built.head)).equals(Buffer.from(c.bytes))).toBe(true);
        expect((built.mbufs[0].pkthdr)).toBe(c.layout.pkthdr);
        for (const mb of built.mbufs) {
          // Shared clusters are read-only: the API shows them without spare space.
          expect(pool.writable(mb.handle)).toBe(!mb.shared);
          if (mb.shared) expect(pool.trailingspace(mb.handle)).toBe(0);
          else expect(pool.trailingspace(mb.handle)).toBe(mb.bufferEnd - mb.data - mb.length);
        }
        if (c.layout.socket) return; // sbcompress re-lays small mbufs; the bytes are what counts
        const want = c.layout.mbufs.map((mb) => ({ length: mb.length, cluster: mb.cluster, leading: mb.leading, shared: mb.shared }));
        const got = built.mbufs.map((mb) => ({ length: mb.length, cluster: mb.cluster, leading: mb.data - mb.bufferStart, shared: mb.shared }));
        expect(got, `${describeLayout(c.layout)}\n  built ${describeChain(built.mbufs)}`).toEqual(want);
      } finally {
        built.free();
      }
      expect(pool.audit().message).toBe("clean");
    }), { numRuns: 400 });
    expect(inUse(pool)).toEqual(before);
  });

  it("shrink to the simplest layout: one mbuf, else one cluster, else full clusters", () => {
    for (const length of [0, 1, 100, 216, 217, 2048, 2049, 5000]) {
      const r = fc.check(fc.property(chainLayouts(length), () => false), { seed: length });
      expect(r.counterexample?.[0], `length ${length}`).toEqual(simplestLayout(length));
    }
    expect(describeLayout(simplestLayout(100))).toBe("pkthdr, spare 0x00: mbuf[0,100) lead 0 trail 116");
    expect(describeLayout(simplestLayout(5000))).toBe(
      "pkthdr, spare 0x00: cluster[0,2048) lead 0 trail 0 -> cluster[2048,4096) lead 0 trail 0 -> cluster[4096,5000) lead 0 trail 1144");
  });

  it("cover what parsers trip on: split headers, empty mbufs, clusters, spare space, sharing, socket records", () => {
    const seen = new Set<string>();
    for (const layout of fc.sample(chainLayouts(40), { numRuns: 500, seed: 7 })) {
      const [first] = layout.mbufs;
      if (first.length < 2) seen.add("header split after byte 0 or 1");
      if (layout.mbufs.some((mb) => mb.length === 0)) seen.add("an empty mbuf");
      if (layout.mbufs.some((mb) => mb.cluster) && layout.mbufs.some((mb) => !mb.cluster)) seen.add("mbufs and clusters mixed");
      if (layout.mbufs.some((mb) => mb.leading > 0)) seen.add("leading space");
      if (layout.mbufs.some((mb) => mb.shared)) seen.add("a shared cluster");
      if (layout.socket) seen.add("a socket record");
      if (!layout.pkthdr) seen.add("no packet header");
    }
    expect(seen.size).toBe(7);
  });

  it("follow the pool's cluster size and refuse a pool of another", () => {
    const aix = makePool({ profile: "aix" });
    const layout = simplestLayout(3000, { clusterBytes: aix.mclbytes });
    expect(layout.mbufs).toHaveLength(aix.mclbytes >= 3000 ? 1 : 2);
    const built = buildChain(aix, pattern(3000), layout);
    built.free();
    if (aix.mclbytes !== 2048) expect(() => buildChain(aix, pattern(3000), simplestLayout(3000))).toThrow(/clusterBytes: pool.mclbytes/);
  });
});

describe("the harness", () => {
  it("catches the naive parser with a shrunk layout that splits the header, and passes the fixed ones", () => {
    const pool = makePool();
    const before = inUse(pool);
    let caught: ChainParserError | undefined;
    try {
      checkChainParser(pool, naiveRecord, { bytes: records, isExpectedError: isRecordError, seed: 42 });
    } catch (e) {
      caught = e as ChainParserError;
    }
    expect(caught).toBeInstanceOf(ChainParserError);
    console.log(`the naive parser, as checkChainParser reports it:\n${caught!.message}`);
    const failure = caught!.failure!;
    // Shrunk: a short input, and a first mbuf that holds less than the header.
    expect(failure.layout.mbufs[0].length).toBeLessThan(2);
    expect(failure.layout.mbufs.length).toBe(2);
    expect(failure.bytes.length).toBeLessThanOrEqual(4);
    expect(caught!.message).toMatch(/differs from the simplest layout's|which isExpectedError does not accept/);
    // The seed and path replay it.
    expect(() => checkChainParser(pool, naiveRecord, { bytes: records, isExpectedError: isRecordError, seed: caught!.seed, path: caught!.path }))
      .toThrow(caught!.message.split("\n")[1]);

    checkChainParser(pool, copyingRecord, { bytes: records, isExpectedError: isRecordError, numRuns: 300 });
    checkChainParser(pool, pullupRecord, { bytes: records, isExpectedError: isRecordError, consumes: true, numRuns: 300 });
    expect(inUse(pool)).toEqual(before);
  });

  it("is a property for fc.assert too, with the layout in fast-check's counterexample", () => {
    const pool = makePool();
    fc.assert(chainParserProperty(pool, copyingRecord, { bytes: records, isExpectedError: isRecordError }));
    let thrown: Error | undefined;
    try {
      fc.assert(chainParserProperty(pool, naiveRecord, { bytes: record([1, 2, 3]), isExpectedError: isRecordError }), { seed: 1 });
    } catch (e) {
      thrown = e as Error;
    }
    expect(thrown?.message).toMatch(/Counterexample: \[pkthdr, spare 0x00: mbuf\[0,[01]\)[^\n]* of 5 bytes \[00 03 01 02 03\]\]/);
    // fast-check 4 keeps the predicate's error as the cause (test runners print it), or in the report with includeErrorInReport.
    expect((thrown?.cause as Error).message).toMatch(/differs from the simplest layout's/);
    expect(() => fc.assert(chainParserProperty(pool, naiveRecord, { bytes: record([1, 2, 3]) }), { seed: 1, includeErrorInReport: true }))
      .toThrow(/Counterexample: [\s\S]*differs from the simplest layout's/);
  });

  it("fails a throw that is not the parser's documented error, on the simplest layout first", () => {
    const pool = makePool();
    const lying = Uint8Array.from([0, 9, 1, 2]);
    expect(() => checkChainParser(pool, copyingRecord, { bytes: lying }))
      .toThrow(/failed on the simplest layout[\s\S]*threw RecordError: the length field claims more than the chain holds, which isExpectedError does not accept/);
    // Trusting the length: copydata past the chain's end throws ERANGE, which is no RecordError.
    const trusting: ChainParser<number[]> = (p, m) => {
      const h = p.copydata(m, 0, 2);
      return Array.from(p.copydata(m, 2, (h[0] << 8) | h[1]));
    };
    expect(() => checkChainParser(pool, trusting, { bytes: lying, isExpectedError: isRecordError })).toThrow(/threw MbufError: ERANGE: copydata\(\d+\)[^\n]*, which isExpectedError does not accept/);
  });

  it("fails a result that depends on the layout, and a TypeError some layouts cause", () => {
    const pool = makePool();
    const counting: ChainParser<number> = (p, m) => p.data(m).length; // the first mbuf's length is layout
    expect(() => checkChainParser(pool, counting, { bytes: pattern(20), seed: 3 })).toThrow(/simplest layout: returned 20\n\s+this layout: +returned \d+/);
    const indexing: ChainParser<string> = (p, m) => p.data(m)[1].toString(16);
    expect(() => checkChainParser(pool, indexing, { bytes: pattern(20), seed: 3 })).toThrow(/threw TypeError/);
  });

  it("fails a write past m_len, and one into a cluster another chain shares; M_WRITABLE makes it right", () => {
    const pool = makePool();
    const pastLen: ChainParser<number> = (p, m) => {
      const v = p.data(m);
      new Uint8Array(v.buffer, v.byteOffset + v.length, 1)[0] = 0x41; // NUL-terminating in place, one byte too far
      return 0;
    };
    expect(() => checkChainParser(pool, pastLen, { bytes: pattern(9) }))
      .toThrow(/wrote into the trailing space of mbuf #0 \(past its m_len of 9\): byte 0 of it went from 0x00 to 0x41/);
    // Decoding in place (here: lower-casing the first byte) writes the chain's own data: fine unless it is shared.
    const inPlace: ChainParser<number> = (p, m) => {
      const { m: mb, off } = p.getptr(m, 0);
      p.data(mb)[off] |= 0x20;
      return p.copydata(m, 0, 1)[0];
    };
    expect(() => checkChainParser(pool, inPlace, { bytes: Uint8Array.from([0x41, 0x42]), seed: 5 }))
      .toThrow(/wrote into cluster #0, which another chain shares \(read-only: writable\(\) is false\): byte \d+ of it went from 0x41 to 0x61/);
    const careful: ChainParser<number> = (p, m) => {
      const { m: mb, off } = p.getptr(m, 0);
      if (!p.writable(mb)) return p.copydata(m, 0, 1)[0] | 0x20;
      p.data(mb)[off] |= 0x20;
      return p.copydata(m, 0, 1)[0];
    };
    checkChainParser(pool, careful, { bytes: Uint8Array.from([0x41, 0x42]), seed: 5 });
  });

  it("fails a parser that keeps buffers, frees what it borrowed, or replaces the head without consumes", () => {
    const pool = makePool();
    const keeping: ChainParser<number> = (p, m) => (p.copym(m, 0, 1), 0);
    expect(() => checkChainParser(pool, keeping, { bytes: pattern(9) })).toThrow(/kept 1 mbuf and 0 clusters/);
    const freeing: ChainParser<number> = (p, m) => (p.freem(m), 0);
    expect(() => checkChainParser(pool, freeing, { bytes: pattern(9) })).toThrow(/changed the chain it borrowed[\s\S]*pass consumes: true/);
    // The same parser is right once it says that it takes the chain over; forgetting to free it then is a leak.
    checkChainParser(pool, freeing, { bytes: pattern(9), consumes: true });
    expect(() => checkChainParser(pool, () => 0, { bytes: pattern(9), consumes: true })).toThrow(/kept 1 mbuf and 0 clusters/);
    expect(() => checkChainParser(pool, pullupRecord, { bytes: record([1, 2]), isExpectedError: isRecordError }))
      .toThrow(/changed the chain it borrowed|freed buffers it did not own/);
    // What those failures kept stays in use, consistent: the audit after the test is clean.
  });

  it("runs one layout on its own, for a failure found elsewhere", () => {
    const pool = makePool();
    const bytes = record([7, 8, 9]);
    const layout = fc.sample(chainLayouts(bytes.length), { numRuns: 50, seed: 11 }).find((l) => l.mbufs[0].length === 1 && !l.socket)!;
    const run = runChainParser(pool, naiveRecord, laidOut(bytes, layout), { isExpectedError: isRecordError });
    expect(run.problems).toEqual([]);
    expect(run.outcome).toEqual({ returned: [] }); // the second header byte read as undefined: length 0
  });
});

describe("the DNS query parser over chains", () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
  const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join("."));
  const id = fc.integer({ min: 0, max: 0xffff });
  const queries: fc.Arbitrary<Uint8Array> = fc.oneof(
    fc.tuple(id, name).map(([i, n]) => buildQuery(i, n)),
    // A label that claims to be longer than the packet (FreeBSD 4's "Label claims to be longer than packet").
    fc.tuple(id, name, fc.integer({ min: 1, max: 63 })).map(([i, n, lie]) => buildQuery(i, n, { claimLonger: lie })),
    // Cut short anywhere, header included.
    fc.tuple(id, name, fc.nat()).map(([i, n, cut]) => { const q = buildQuery(i, n); return q.subarray(0, cut % q.length); }),
    // A compression pointer in the question, no question, bytes of any kind.
    fc.tuple(id, name).map(([i, n]) => { const q = buildQuery(i, n); q[12] = 0xc0; return q; }),
    id.map((i) => Uint8Array.from([i >> 8, i & 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    fc.uint8Array({ maxLength: 80 }),
    // Longer than a UDP query may be: 9 labels of 60.
    fc.constant(buildQuery(1, Array.from({ length: 9 }, (_, i) => String(i).repeat(60)).join("."))),
  );

  for (const profile of ["freebsd", "aix"] as const) {
    it(`parses every layout of a query alike, malformed and lying ones rejected, on ${profile}`, () => {
      const pool = makePool({ profile });
      const before = inUse(pool);
      checkChainParser(pool, parseQueryChain, { bytes: queries, numRuns: 400 });
      expect(inUse(pool)).toEqual(before);
    });
  }

  it("rejects a label that claims to be longer than the packet on every layout", () => {
    const pool = makePool();
    const lying = buildQuery(7, "www.example.com", { claimLonger: 40 });
    const error = { ok: false, error: "Label claims to be longer than packet" };
    checkChainParser(pool, (p, m) => {
      const r = parseQueryChain(p, m);
      expect(r).toEqual(error);
      return r;
    }, { bytes: lying, numRuns: 200 });
  });

  it("is caught when it reads the first mbuf only, as a responder without the copy would", () => {
    const pool = makePool();
    const firstMbufOnly: ChainParser<unknown> = (p, m) => parseQuery(p.data(m));
    expect(() => checkChainParser(pool, firstMbufOnly, { bytes: buildQuery(1, "a.example"), seed: 9 })).toThrow(/differs from the simplest layout's/);
  });
});

describe("outside vitest", () => {
  it("checkChainParser runs under node:test", () => {
    const file = fileURLToPath(new URL("./fixtures/chain-parser/node-test.mjs", import.meta.url));
    const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { encoding: "utf8", env: { ...process.env, MBUFPOOL_BUILD: process.env.MBUFPOOL_BUILD } });
    expect(r.stdout + r.stderr).toMatch(/# pass 2/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
