import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, M_WAITOK, M_PKTHDR, MbufError } from "mbufpool";
import { makePool } from "./helpers.js";

describe("netstat -m, FreeBSD 4", () => {
  it("reproduces seed 000's exhausted mail server line for line from a real pool state", () => {
    // maxusers 125 autosizes NMBCLUSTERS = 512 + 125 * 16 = 2512 and NMBUFS = 4 x 2512 = 10048.
    const pool = makePool({ profile: "freebsd4", tunables: { maxusers: 125 } });
    const mbufs: number[] = [];
    for (let i = 0; i < 3840; i++) mbufs.push(pool.get(M_NOWAIT, MT.DATA));
    for (let i = 0; i < 2512; i++) expect(pool.clget(mbufs[i])).toBe(true);
    const bare = mbufs[3000];
    for (let i = 0; i < 17044; i++) expect(pool.clget(bare, M_NOWAIT)).toBe(false);
    for (let i = 0; i < 828; i++) expect(pool.clget(bare, M_WAITOK)).toBe(false);
    // Keep 32 mbufs with clusters and 5 without: 37 in use.
    const keep = new Set([...mbufs.slice(0, 32), ...mbufs.slice(3000, 3005)]);
    for (const m of mbufs) if (!keep.has(m)) pool.free(m);
    expect(pool.netstat()).toBe(
      "37/3840/10048 mbufs in use (current/peak/max):\n" +
      "\t37 mbufs allocated to data\n" +
      "32/2512/2512 mbuf clusters in use (current/peak/max)\n" +
      "5984 Kbytes allocated to network (79% of mb_map in use)\n" +
      "17044 requests for memory denied\n" +
      "828 requests for memory delayed\n" +
      "0 calls to protocol drain routines\n",
    );
    for (const m of keep) pool.free(m);
  });

  it("lists each non-zero type in netstat's table order", () => {
    const pool = makePool({ profile: "freebsd4" });
    const ms = [pool.get(M_NOWAIT, MT.SOCKET), pool.get(M_NOWAIT, MT.DATA), pool.get(M_NOWAIT, MT.PCB),
      pool.get(M_NOWAIT, MT.PCB), pool.get(M_NOWAIT, MT.HEADER)];
    const lines = pool.netstat().split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "5/16/4096 mbufs in use (current/peak/max):",
      "\t1 mbufs allocated to data",
      "\t1 mbufs allocated to packet headers",
      "\t1 mbufs allocated to socket structures",
      "\t2 mbufs allocated to protocol control blocks",
    ]);
    for (const m of ms) pool.free(m);
  });
});

describe("netstat -m, modern FreeBSD", () => {
  it("prints current/cache/total with the packet and jumbo lines", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 8 * 1024 * 1024 } });
    const a = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const b = pool.get();
    const c = pool.get();
    pool.free(c);
    // 16 mbufs carved (one page), 2 in use; 2 clusters carved (one page), 1 in use.
    expect(pool.netstat().split("\n")).toEqual([
      "2/14/16 mbufs in use (current/cache/total)",
      "1/1/2/1024 mbuf clusters in use (current/cache/total/max)",
      "1/0 mbuf+clusters out of packet secondary zone in use (current/cache)", // getcl's pair is a packet-zone item
      "0/0/0/512 4k (page size) jumbo clusters in use (current/cache/total/max)",
      "0/0/0/151 9k jumbo clusters in use (current/cache/total/max)",
      "0/0/0/85 16k jumbo clusters in use (current/cache/total/max)",
      "2K/5K/8K bytes allocated to network (current/cache/total)",
      "0/0/0 requests for mbufs denied (mbufs/clusters/mbuf+clusters)",
      "0/0/0 requests for mbufs delayed (mbufs/clusters/mbuf+clusters)",
      "0/0/0 requests for jumbo clusters delayed (4k/9k/16k)",
      "0/0/0 requests for jumbo clusters denied (4k/9k/16k)",
      "",
    ]);
    expect(pool.netstat({ format: "freebsd6" }).trimEnd().split("\n").at(-1)).toBe("0 calls to protocol drain routines");
    pool.freem(a);
    pool.free(b);
  });

  it("refuses an unknown format", () => {
    const pool = makePool();
    expect(() => pool.netstat({ format: "bogus" })).toThrow(MbufError);
  });
});
