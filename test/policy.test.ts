import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MbufError, VirtualClock, resolveTunables, getProfile } from "mbufpool";
import { makePool } from "./helpers.js";

const small4 = { "kern.ipc.nmbclusters": 4, "kern.ipc.nmbufs": 16 };

describe("protocol drain routines", () => {
  it("run on a failed allocation (modern rule) and their frees satisfy the retry", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 4 } });
    const held = [pool.getcl(), pool.getcl(), pool.getcl(), pool.getcl()];
    const order: string[] = [];
    pool.onDrain("ip", () => order.push("ip"));
    pool.onDrain("tcp", (p) => {
      order.push("tcp");
      p.freem(held.pop()!);
    });
    const m = pool.getcl();
    expect(m).toBeGreaterThan(0);
    expect(order).toEqual(["ip", "tcp"]);
    const s = pool.stats();
    expect(s.drains).toBe(1);
    expect(s.clusters.denied).toBe(0);
    held.push(m);
    for (const h of held) pool.freem(h);
  });

  it("count a drain call and a denial when the drain frees nothing", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 1 } });
    const a = pool.getcl();
    let calls = 0;
    const off = pool.onDrain(() => calls++);
    expect(pool.getcl()).toBe(0);
    expect(calls).toBe(1);
    expect(pool.stats().drains).toBe(1);
    expect(pool.stats().clusters.denied).toBe(1);
    off();
    expect(pool.getcl()).toBe(0);
    expect(calls).toBe(1);
    pool.freem(a);
  });

  it("follow FreeBSD 4's rule: only a waiting mbuf request drains", () => {
    const pool = makePool({ profile: "freebsd4", tunables: small4 });
    let calls = 0;
    pool.onDrain(() => calls++);
    const held: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) held.push(m);
    expect(calls).toBe(0); // M_NOWAIT: denied without draining
    expect(pool.get(M_WAITOK)).toBe(0);
    expect(calls).toBe(1);
    expect(pool.stats().drains).toBe(1);
    expect(pool.stats().mbufs.delayed).toBe(1);
    for (const m of held) pool.free(m);
  });

  it("report a throwing drain routine as an event and carry on", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 1 } });
    const a = pool.getcl();
    const errors: string[] = [];
    pool.on("drainError", (name: string) => errors.push(name));
    pool.onDrain("bad", () => {
      throw new Error("boom");
    });
    expect(pool.getcl()).toBe(0);
    expect(errors).toEqual(["bad"]);
    pool.freem(a);
  });
});

describe("exhaustion messages", () => {
  it("are FreeBSD 4's, at most once a second of clock time, and never on stdout", () => {
    const clock = new VirtualClock();
    const logged: string[] = [];
    const pool = makePool({ profile: "freebsd4", tunables: small4, clock, logger: (m) => logged.push(m) });
    const held = [pool.getcl(), pool.getcl(), pool.getcl(), pool.getcl()];
    for (let i = 0; i < 5; i++) pool.getcl();
    clock.advance(1000);
    pool.getcl();
    expect(logged).toEqual([
      "All mbuf clusters exhausted, please see tuning(7).",
      "All mbuf clusters exhausted, please see tuning(7).",
    ]);
    for (const m of held) pool.freem(m);
  });

  it("are modern FreeBSD's zone-limit warning, at most once per 300 s", () => {
    const clock = new VirtualClock();
    const msgs: string[] = [];
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 1 }, clock });
    pool.on("message", (m: { text: string }) => msgs.push(m.text));
    const a = pool.getcl();
    pool.getcl();
    clock.advance(299_000);
    pool.getcl();
    clock.advance(1_000);
    pool.getcl();
    expect(msgs).toEqual([
      "[zone: mbuf_cluster] kern.ipc.nmbclusters limit reached",
      "[zone: mbuf_cluster] kern.ipc.nmbclusters limit reached",
    ]);
    pool.freem(a);
  });
});

describe("the m_clalloc reservation (seed 003)", () => {
  it("gives clusters only to the receive class while the flag is set", () => {
    const pool = makePool({ profile: "rtems" });
    pool.setReserved(true);
    expect(pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR)).toBe(0);
    const m = pool.get();
    expect(pool.clget(m)).toBe(false);
    const r = pool.getcl(M_NOWAIT | M_RECV);
    expect(r).toBeGreaterThan(0);
    let s = pool.stats();
    expect(s.reservedDenied).toBe(2);
    expect(s.clusters.denied).toBe(2);
    expect(s.reservation.flag).toBe(true);
    pool.setReserved(false);
    expect(pool.clget(m)).toBe(true);
    s = pool.stats();
    expect(s.reservation.flag).toBe(false);
    pool.freem(m);
    pool.freem(r);
  });

  it("keeps a reserve of clusters for the receive class", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 6, "kern.ipc.nmbufs": 24 } });
    pool.setReserve(2);
    const sender: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) sender.push(m);
    expect(sender.length).toBe(4);
    const recv = [pool.getcl(M_NOWAIT | M_RECV), pool.getcl(M_NOWAIT | M_RECV)];
    expect(recv.every((m) => m > 0)).toBe(true);
    expect(pool.getcl(M_NOWAIT | M_RECV)).toBe(0);
    expect(pool.stats().reservation.count).toBe(2);
    expect(() => pool.setReserve(7)).toThrow(MbufError);
    expect(() => pool.setReserve(-1)).toThrow(MbufError);
    for (const m of [...sender, ...recv]) pool.freem(m);
  });
});

describe("profiles and tunables", () => {
  it("autosize each profile by its own formula", () => {
    const f = makePool({ profile: "freebsd", tunables: { "hw.physmem": 256 * 1024 * 1024 } });
    const mbm = 128 * 1024 * 1024;
    expect(f.tunables["kern.ipc.maxmbufmem"]).toBe(mbm);
    expect(f.tunables["kern.ipc.nmbclusters"]).toBe(mbm / 2048 / 4);
    expect(f.tunables["kern.ipc.nmbufs"]).toBe(Math.floor(mbm / 256 / 5));
    const f4 = makePool({ profile: "freebsd4", tunables: { maxusers: 64 } });
    expect(f4.layout.nmbclusters).toBe(512 + 64 * 16);
    expect(f4.layout.nmbufs).toBe(4 * (512 + 64 * 16));
    expect(f4.stats().arena.thewall).toBe((512 + 64 * 16) * 2048 + 4 * (512 + 64 * 16) * 256);
    const r = makePool({ profile: "rtems" });
    const rs = r.stats();
    expect(rs.mbufs.total).toBe(256); // 64 KiB of mbufs, carved at start
    expect(rs.clusters.total).toBe(64); // 128 KiB of clusters
    const a = makePool({ profile: "aix" });
    const as = a.stats();
    expect(as.mclbytes).toBe(4096);
    expect(as.clusters.total).toBe(29); // lowclust
    expect(as.mbufs.total).toBe(96); // lowmbuf 88, rounded up to whole pages
    expect(as.arena.thewall).toBe(2048 * 1024);
  });

  it("never grows a carved-once RTEMS pool", () => {
    const pool = makePool({ profile: "rtems", tunables: { mbuf_cluster_bytecount: 8192 } });
    const held: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) held.push(m);
    expect(held.length).toBe(4);
    expect(pool.stats().clusters.total).toBe(4);
    expect(pool.grow("cluster", 10)).toBe(0);
    for (const m of held) pool.freem(m);
  });

  it("refuse bad values with the tunable, the value and the rule", () => {
    const bad: [string, Record<string, number>, RegExp][] = [
      ["freebsd4", { "kern.ipc.nmbufs": 10 }, /kern\.ipc\.nmbufs=10 refused: .*at least 2 x kern\.ipc\.nmbclusters/],
      ["freebsd4", { maxusers: 0 }, /maxusers=0 refused/],
      ["freebsd", { "kern.ipc.nmbclusters": 0 }, /kern\.ipc\.nmbclusters=0 refused/],
      ["freebsd", { "kern.ipc.nmbufs": 5, "kern.ipc.nmbclusters": 10 }, /cluster limits may not exceed nmbufs/],
      ["freebsd", { "kern.ipc.maxmbufmem": 4 * 1024 * 1024 * 1024 }, /kern\.ipc\.maxmbufmem=.* refused/],
      ["aix", { thewall: 1.5 }, /thewall=1\.5 refused/],
      ["aix", { lowclust: 1_000_000 }, /lowclust=1000000 refused: .*fit in thewall/],
      ["freebsd", { thewall: 2048 }, /unknown tunable "thewall" for profile freebsd/],
    ];
    for (const [profile, tunables, msg] of bad) {
      let err: unknown;
      try {
        makePool({ profile: profile as "freebsd", tunables });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MbufError);
      expect((err as MbufError).code).toBe("ETUNABLE");
      expect((err as MbufError).message).toMatch(msg);
    }
    expect(() => makePool({ profile: "solaris" as "freebsd" })).toThrow(/unknown profile "solaris"/);
  });

  it("resolves aliases to the system's names", () => {
    const v = resolveTunables(getProfile("freebsd"), { nmbclusters: 1000 });
    expect(v["kern.ipc.nmbclusters"]).toBe(1000);
  });
});

describe("the arena", () => {
  it("gives fully free pages back and lets another zone take them", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 64 * 1024, "kern.ipc.nmbufs": 256 } }); // 16 pages
    const cls: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) cls.push(m);
    let s = pool.stats();
    expect(s.arena.zonePages).toBeLessThanOrEqual(16);
    for (const m of cls) pool.freem(m);
    // The clusters' pages can go back; mbuf pages are kept as asked.
    const released = pool.reclaim("cluster");
    s = pool.stats();
    expect(released).toBeGreaterThan(0);
    expect(s.clusters.total).toBe(0);
    expect(s.arena.freePages).toBe(released);
    const ms: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) ms.push(m);
    s = pool.stats();
    expect(s.arena.freePages).toBe(0);
    expect(s.mbufs.pages).toBe(16);
    for (const m of ms) pool.free(m);
  });

  it("keeps what reclaim is told to keep, and freebsd4 never gives map pages back", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 256 * 1024 } });
    const out = new Int32Array(20);
    pool.getBulk(out, 20, M_NOWAIT, MT.DATA, { cluster: true });
    pool.freemBulk(out);
    pool.reclaim("cluster", 6);
    expect(pool.stats().clusters.cache).toBeGreaterThanOrEqual(6);
    const old = makePool({ profile: "freebsd4" });
    old.freem(old.getcl());
    expect(old.reclaim("cluster")).toBe(0);
  });
});
