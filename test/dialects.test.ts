// Each netstat -m dialect line by line against REFERENCE.md, on real pool states.
import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, M_WAITOK, M_PKTHDR, MbufError, aixFigures, formatReport, REPORT_FORMATS, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

/** Takes `n` mbufs of `type`. */
const take = (pool: Pool, n: number, type: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = pool.get(M_NOWAIT, type);
    expect(m).not.toBe(0);
    out.push(m);
  }
  return out;
};

describe("netstat -m, AIX 3.2.5", () => {
  it("reproduces seed 004's sample exactly from a real pool state", () => {
    // thewall 2048 KB, lowmbuf 88, lowclust 29, mb_cl_hiwat 58: the seed's `no -a`.
    const pool = makePool({ profile: "aix" });
    expect(pool.tunables).toMatchObject({ thewall: 2048, lowmbuf: 88, lowclust: 29, mb_cl_hiwat: 58 });
    // netm has grown the pools: 64 clusters pinned (4096 bytes, one per page), room for 253 mbufs.
    pool.grow("cluster", 64);
    pool.grow("mbuf", 253);
    const census: Array<[number, number]> = [
      [MT.DATA, 50], [MT.HEADER, 1], [MT.SOCKET, 76], [MT.PCB, 100], [MT.RTABLE, 10], [MT.SONAME, 14], [MT.IFADDR, 2],
    ];
    const held: number[] = [];
    for (const [type, n] of census) held.push(...take(pool, n, type));
    // 16 of the data mbufs carry a cluster: "64 pinned clusters, of which 16 are currently in use".
    for (let i = 0; i < 16; i++) expect(pool.clget(held[i])).toBe(true);
    const s = pool.stats();
    expect(s.clusters.total).toBe(64);
    // AIX's netstat is 4.3BSD-Reno's: memory = mbufs in use * MSIZE + clusters carved * MCLBYTES,
    // free memory = free clusters * MCLBYTES:
    //   253 * 256 + 64 * 4096 = 64768 + 262144 = 326912 bytes -> 326912 / 1024 = 319 K;
    //   (326912 - 48 * 4096) * 100 / 326912 = 13030400 / 326912 = 39 %.
    // The figure is reachable exactly because Reno counts mbufs in use, not mbufs carved: the zone
    // carves 16 mbufs per page, so it holds 256 here, and counting those would give
    // 256 * 256 + 262144 = 327680 bytes = 320 K instead.
    expect(s.mbufs.total).toBe(256);
    expect(aixFigures(s)).toEqual({ inUse: 253, pagesUsed: 16, pagesTotal: 64, kbytes: 319, percent: 39 });
    expect(pool.netstat().split("\n")).toEqual([
      "253 mbufs in use:",
      "\t50 mbufs allocated to data",
      "\t1 mbufs allocated to packet headers",
      "\t76 mbufs allocated to socket structures",
      "\t100 mbufs allocated to protocol control blocks",
      "\t10 mbufs allocated to routing table entries",
      "\t14 mbufs allocated to socket names and addresses",
      "\t2 mbufs allocated to interface addresses",
      "16/64 mapped pages in use",
      "319 Kbytes allocated to network (39% in use)",
      "0 requests for memory denied",
      "0 requests for memory delayed",
      "0 calls to protocol drain routines",
      "",
    ]);
    for (const m of held) pool.free(m);
  });

  it("counts denied and delayed requests of both pools, and an unnamed type as Reno did", () => {
    const pool = makePool({ profile: "aix", tunables: { lowmbuf: 16, lowclust: 1 } });
    const a = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    expect(a).not.toBe(0);
    expect(pool.getcl(M_NOWAIT)).toBe(0); // no cluster left: denied
    expect(pool.getcl(M_WAITOK)).toBe(0); // delayed
    const b = pool.get(M_NOWAIT, 9);
    const lines = pool.netstat().split("\n");
    // 2 mbufs: 512 bytes + 1 cluster of 4096 = 4608 bytes = 4 K, all of it in use.
    expect(lines).toEqual([
      "2 mbufs in use:",
      "\t1 mbufs allocated to data",
      "\t1 mbufs allocated to <mbuf type 9>",
      "1/1 mapped pages in use",
      "4 Kbytes allocated to network (100% in use)",
      "1 requests for memory denied",
      "1 requests for memory delayed",
      // AIX drains when a waiting request fails: the M_WAITOK one.
      "1 calls to protocol drain routines",
      "",
    ]);
    pool.freem(a);
    pool.free(b);
  });

  it("is the aix profile's default and says 0% for an empty pool", () => {
    const pool = makePool({ profile: "aix", tunables: { lowmbuf: 0, lowclust: 0 } });
    expect(pool.netstat().split("\n").slice(0, 3)).toEqual(["0 mbufs in use:", "0/0 mapped pages in use", "0 Kbytes allocated to network (0% in use)"]);
  });
});

describe("rtems_bsdnet_show_mbuf_stats", () => {
  it("prints the RTEMS layout, four census slots per row", () => {
    // Defaults: 64 KiB of mbufs (256) and 128 KiB of clusters (64), carved at start-up.
    const pool = makePool({ profile: "rtems" });
    const held = [pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR), pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR),
      pool.get(M_NOWAIT, MT.HEADER), pool.get(M_NOWAIT, MT.SOCKET), pool.get(M_NOWAIT, MT.PCB), pool.get(M_NOWAIT, MT.CONTROL)];
    const rest: number[] = [];
    for (;;) {
      const m = pool.getcl(M_NOWAIT);
      if (m === 0) break;
      rest.push(m);
    }
    for (const m of rest.splice(0, 5)) pool.freem(m);
    // 64 clusters: 2 + 62 taken, 5 given back; the failed request was denied.
    expect(pool.netstat()).toBe(
      "************ MBUF STATISTICS ************\n" +
      "mbufs: 256    clusters:  64    free:   5\n" +
      "drops:   1       waits:   0  drains:   0\n" +
      "      free:193           data:59          header:1           socket:1       \n" +
      "       pcb:1           rtable:0           htable:0           atable:0       \n" +
      "    soname:0           soopts:0           ftable:0           rights:0       \n" +
      "    ifaddr:0          control:1          oobdata:0       \n" +
      "\n",
    );
    for (const m of [...held, ...rest]) pool.freem(m);
  });

  it("prints an unnamed type only when it is in use, as Type N", () => {
    const pool = makePool({ profile: "rtems" });
    expect(pool.netstat()).not.toContain("Type 9");
    const m = pool.get(M_NOWAIT, 9);
    const rows = pool.netstat().split("\n");
    expect(rows[5]).toBe("    soname:0           Type 9:1           soopts:0           ftable:0       ");
    expect(rows[6]).toBe("    rights:0           ifaddr:0          control:0          oobdata:0       ");
    expect(rows[7]).toBe("");
    expect(rows.length).toBe(9);
    pool.free(m);
  });
});

describe("report formats", () => {
  it("lists every dialect and refuses an unknown one", async () => {
    expect(REPORT_FORMATS).toEqual(["freebsd", "freebsd6", "freebsd4", "aix", "rtems", "json", "prometheus"]);
    const pool = makePool();
    for (const f of REPORT_FORMATS) expect((await formatReport(pool.stats(), f)).length).toBeGreaterThan(0);
    await expect(formatReport(pool.stats(), "bogus")).rejects.toThrow(MbufError);
    expect(() => pool.netstat({ format: "prometheus" })).toThrow(/asynchronous/);
  });

  it("gives each profile its own dialect by default", () => {
    const heads: Record<string, RegExp> = {
      freebsd: /^\d+\/\d+\/\d+ mbufs in use \(current\/cache\/total\)$/,
      freebsd4: /^\d+\/\d+\/\d+ mbufs in use \(current\/peak\/max\):$/,
      aix: /^\d+ mbufs in use:$/,
      rtems: /^\*{12} MBUF STATISTICS \*{12}$/,
    };
    for (const [profile, head] of Object.entries(heads)) {
      const pool = makePool({ profile: profile as "freebsd" });
      expect(pool.netstat().split("\n")[0]).toMatch(head);
    }
  });
});
