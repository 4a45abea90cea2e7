import { describe, it, expect, vi } from "vitest";
import fc from "fast-check";
import { VirtualClock, MbufError, M_WAITOK, M_NOWAIT, M_RECV, MT, M_PKTHDR, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

const RECV = M_WAITOK | M_RECV;

/** Takes every mbuf+cluster packet the pool gives without waiting. */
function takeAll(pool: Pool): number[] {
  const held: number[] = [];
  for (let m = pool.getcl(); m; m = pool.getcl()) held.push(m);
  return held;
}

/** Records settlement of a promise without leaving it unhandled. */
function track<T>(p: Promise<T>): { value?: T; error?: MbufError; done: boolean } {
  const r: { value?: T; error?: MbufError; done: boolean } = { done: false };
  p.then((v) => { r.value = v; r.done = true; }, (e: MbufError) => { r.error = e; r.done = true; });
  return r;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A small modern FreeBSD pool: `n` clusters. */
const small = (n: number, clock = new VirtualClock()) =>
  makePool({ profile: "freebsd", clock, tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": n } });

describe("waiting allocation", () => {
  it("resolves at once when the pool has the buffer, counting nothing", async () => {
    const pool = small(4);
    const m = await pool.getclWait();
    const h = await pool.getWait();
    expect(m).toBeGreaterThan(0);
    expect(h).toBeGreaterThan(0);
    const s = pool.stats();
    expect(s.clusters.delayed + s.mbufs.delayed).toBe(0);
    expect(s.waits.waited).toBe(0);
    pool.freem(m);
    pool.freem(h);
  });

  it("waits, counted as delayed, and gets the freed buffer itself", async () => {
    const pool = small(2);
    const held = takeAll(pool);
    const w = track(pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 }));
    await flush();
    expect(w.done).toBe(false);
    expect(pool.stats().clusters.delayed).toBe(1);
    expect(pool.stats().waits.waiting).toBe(1);
    expect(pool.waiting).toBe(1);
    pool.freem(held[1]);
    await flush();
    expect(w.value).toBe(held[1]);
    expect(pool.stats().waits).toMatchObject({ waiting: 0, waited: 1, served: 1 });
    expect(pool.waiting).toBe(0);
    pool.freem(held[0]);
    pool.freem(w.value!);
  });

  it("times out with ETIMEDOUT on the pool's clock, counted as denied", async () => {
    const clock = new VirtualClock();
    const pool = small(1, clock);
    const held = takeAll(pool);
    const denied = pool.stats().clusters.denied; // takeAll's last request
    const w = track(pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 500 }));
    clock.advance(499);
    await flush();
    expect(w.done).toBe(false);
    clock.advance(1);
    await flush();
    expect(w.error).toBeInstanceOf(MbufError);
    expect(w.error!.code).toBe("ETIMEDOUT");
    expect(w.error!.message).toMatch(/getclWait: no mbuf cluster within 500 ms/);
    const s = pool.stats();
    expect(s.clusters.delayed).toBe(1);
    expect(s.clusters.denied).toBe(denied + 1);
    expect(s.waits).toMatchObject({ waiting: 0, timedOut: 1 });
    pool.freem(held[0]);
    expect(pool.stats().waits.served).toBe(0);
  });

  it("serves waiters FIFO within a class", async () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 2, "kern.ipc.nmbufs": 16 } });
    const held: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) held.push(m);
    const order: number[] = [];
    const ws = [0, 1, 2, 3].map((i) => pool.getWait(M_WAITOK, MT.DATA, { timeout: 1000 }).then((m) => { order.push(i); return m; }));
    for (let i = 0; i < 4; i++) {
      pool.free(held.pop()!);
      await flush();
      expect(order).toEqual([0, 1, 2, 3].slice(0, i + 1));
    }
    for (const m of [...held, ...(await Promise.all(ws))]) pool.free(m);
  });

  it("serves the receive class first, even when the others asked first", async () => {
    const pool = small(2);
    const held = takeAll(pool);
    const order: string[] = [];
    const other1 = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 }).then((m) => { order.push("send1"); return m; });
    const other2 = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 }).then((m) => { order.push("send2"); return m; });
    const recv = pool.getclWait(RECV, MT.DATA, M_PKTHDR, { timeout: 1000 }).then((m) => { order.push("recv"); return m; });
    expect(pool.stats().waits).toMatchObject({ waiting: 3, receiveWaiting: 1 });
    pool.freem(held[0]);
    await flush();
    expect(order).toEqual(["recv"]);
    pool.freem(held[1]);
    const r = await recv;
    const a = await other1;
    pool.freem(r);
    const b = await other2;
    expect(order).toEqual(["recv", "send1", "send2"]);
    pool.freem(a);
    pool.freem(b);
  });

  it("attaches a cluster to an mbuf when one is freed (clgetWait)", async () => {
    const pool = small(1);
    const held = takeAll(pool);
    const m = pool.get();
    const w = track(pool.clgetWait(m, RECV, { timeout: 1000 }));
    pool.freem(held[0]);
    await flush();
    expect(w.value).toBe(m);
    expect(pool.stats().clusters.current).toBe(1);
    pool.freem(m);
    await expect(pool.clgetWait(12345)).rejects.toMatchObject({ code: "EBADHANDLE" });
    await expect(pool.getWait(0x40)).rejects.toMatchObject({ code: "EINVAL" });
    await expect(pool.getWait(M_WAITOK, MT.DATA, { timeout: -1 })).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("rejects a clgetWait whose mbuf was freed while it waited, even if the mbuf was reused", async () => {
    const pool = small(1);
    const held = takeAll(pool);
    const m = pool.get();
    const w = track(pool.clgetWait(m, M_WAITOK, { timeout: 1000 }));
    pool.free(m);
    const other = pool.get(); // the same address, someone else's mbuf now
    expect(other).toBe(m);
    pool.freem(held[0]);
    await flush();
    expect(w.error?.code).toBe("EBADHANDLE");
    expect(w.error?.message).toMatch(/freed while it waited/);
    expect(pool.stats().clusters.current).toBe(0);
    pool.free(other);
  });

  it("rejects waiters with ECLOSED when the pool closes", async () => {
    const pool = small(1);
    takeAll(pool);
    const w = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: Infinity });
    pool.close();
    await expect(w).rejects.toMatchObject({ code: "ECLOSED" });
  });

  it("prints RTEMS's `Still waiting for mbuf cluster.` every 30 s of waiting, never on stdout", async () => {
    const clock = new VirtualClock();
    const logged: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write");
    const pool = makePool({ profile: "rtems", clock, logger: (t) => logged.push(t), tunables: { mbuf_cluster_bytecount: 4096 } });
    const held = takeAll(pool);
    const m = pool.get();
    const w = track(pool.clgetWait(m, M_WAITOK, { timeout: 65_000 }));
    const events: string[] = [];
    pool.on("message", (e: { text: string; zone: string }) => events.push(`${e.zone}: ${e.text}`));
    clock.advance(65_000);
    await flush();
    expect(logged).toEqual(["Still waiting for mbuf cluster.", "Still waiting for mbuf cluster."]);
    expect(events).toEqual(["cluster: Still waiting for mbuf cluster.", "cluster: Still waiting for mbuf cluster."]);
    expect(w.error?.code).toBe("ETIMEDOUT");
    expect(stdout.mock.calls.some((c) => String(c[0]).includes("Still waiting"))).toBe(false);
    stdout.mockRestore();
    const mbufs: number[] = [];
    for (let h = pool.get(); h; h = pool.get()) mbufs.push(h);
    const w2 = track(pool.getWait(M_WAITOK, MT.DATA, { timeout: 31_000 }));
    clock.advance(31_000);
    await flush();
    expect(logged.at(-1)).toBe("Still waiting for mbuf.");
    expect(w2.error?.code).toBe("ETIMEDOUT");
    for (const h of [...held, m, ...mbufs]) pool.freem(h);
  });

  it("runs FreeBSD 4's drain routines for a waiting mbuf request; their frees satisfy it", async () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 2, "kern.ipc.nmbufs": 16 } });
    const held: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) held.push(m);
    const calls: string[] = [];
    pool.onDrain("ip", () => calls.push("ip"));
    pool.onDrain("tcp", (p) => { calls.push("tcp"); p.free(held.pop()!); });
    const m = await pool.getWait(M_WAITOK, MT.DATA, { timeout: 1000 });
    expect(m).toBeGreaterThan(0);
    expect(calls).toEqual(["ip", "tcp"]);
    const s = pool.stats();
    expect(s.drains).toBe(1);
    expect(s.mbufs.delayed).toBe(0);
    expect(s.waits.waited).toBe(0);
    for (const h of [...held, m]) pool.free(h);
  });

  it("keeps a drain routine's free for the retry, not for a waiter", async () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 2, "kern.ipc.nmbufs": 16 } });
    const held: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) held.push(m);
    const waiter = track(pool.getWait(M_WAITOK, MT.DATA, { timeout: 1000 })); // no drain routine yet: it waits
    pool.onDrain("tcp", (p) => p.free(held.pop()!));
    const m = pool.get(M_WAITOK); // drains; the retry gets the freed mbuf
    expect(m).toBeGreaterThan(0);
    await flush();
    expect(waiter.done).toBe(false);
    pool.free(m);
    await flush();
    expect(waiter.value).toBe(m);
    for (const h of [...held, waiter.value!]) pool.free(h);
  });

  it("serves waiters in class order, FIFO within a class (property)", async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }), async (classes) => {
      const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 2, "kern.ipc.nmbufs": 16 } });
      const held: number[] = [];
      for (let m = pool.get(); m; m = pool.get()) held.push(m);
      const order: number[] = [];
      const ws = classes.map((recv, i) =>
        pool.getWait(recv ? RECV : M_WAITOK, MT.DATA, { timeout: 1000 }).then((m) => { order.push(i); return m; }));
      for (let i = 0; i < classes.length; i++) {
        pool.free(held.pop()!);
        await flush();
      }
      const idx = classes.map((_, i) => i);
      expect(order).toEqual([...idx.filter((i) => classes[i]), ...idx.filter((i) => !classes[i])]);
      for (const m of [...held, ...(await Promise.all(ws))]) pool.free(m);
      expect(pool.audit().ok).toBe(true);
      pool.close();
    }), { numRuns: 30 });
  });
});

describe("the reservation flag (seed 003)", () => {
  it("off: the sender takes every cluster while the receiver waits (RTEMS polls)", async () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "rtems", clock, tunables: { mbuf_cluster_bytecount: 8192 } });
    const sender = takeAll(pool);
    const rx = pool.get();
    const w = track(pool.clgetWait(rx, RECV, { timeout: 1000 }));
    expect(pool.stats().reservation.flag).toBe(false);
    for (let i = 0; i < 50; i++) {
      pool.freem(sender.pop()!);
      const m = pool.getcl();
      expect(m).toBeGreaterThan(0); // the sender wins the freed cluster every time
      sender.push(m);
      clock.advance(10); // the receive task polls every tick and finds nothing
    }
    clock.advance(1000);
    await flush();
    expect(w.error?.code).toBe("ETIMEDOUT");
    const s = pool.stats();
    expect(s.reservedDenied).toBe(0);
    expect(s.waits.served).toBe(0);
    for (const m of [...sender, rx]) pool.freem(m);
  });

  it("on: the receiver always gets the next free cluster; others are refused and counted", async () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "rtems", clock, reserveFlag: true, tunables: { mbuf_cluster_bytecount: 8192 } });
    const sender = takeAll(pool);
    for (let round = 0; round < 20; round++) {
      const rx = pool.get();
      const w = track(pool.clgetWait(rx, RECV, { timeout: 1000 }));
      let s = pool.stats();
      expect(s.reservation.flag).toBe(true);
      expect(pool.getcl()).toBe(0); // the sender is refused while the receiver waits
      const freed = sender.pop()!;
      pool.freem(freed);
      // Right after the free the cluster is already the receiver's: the flag is down, nothing is free.
      expect(pool.stats().reservation.flag).toBe(false);
      expect(pool.getcl()).toBe(0);
      await flush();
      expect(w.value).toBe(rx);
      s = pool.stats();
      expect(s.reservedDenied).toBe(round + 1);
      pool.freem(rx);
      sender.push(pool.getcl()); // with nobody waiting, the sender gets clusters again
      expect(sender.at(-1)).toBeGreaterThan(0);
    }
    for (const m of sender) pool.freem(m);
  });

  it("on, modern FreeBSD: a waiting receiver keeps senders off clusters until it is served", async () => {
    const pool = makePool({ profile: "freebsd", reserveFlag: true, tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 2 } });
    const held = takeAll(pool);
    const sender = track(pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 }));
    const recv = track(pool.getclWait(RECV, MT.DATA, M_PKTHDR, { timeout: 1000 }));
    expect(pool.stats().reservation.flag).toBe(true);
    pool.freem(held[0]);
    await flush();
    expect(recv.value).toBe(held[0]);
    expect(sender.done).toBe(false);
    expect(pool.stats().reservation.flag).toBe(false);
    pool.freem(held[1]);
    await flush();
    expect(sender.value).toBe(held[1]);
    pool.freem(recv.value!);
    pool.freem(sender.value!);
  });

  it("leaves a flag set by hand alone", async () => {
    const pool = makePool({ profile: "rtems", reserveFlag: true, tunables: { mbuf_cluster_bytecount: 4096 } });
    const held = takeAll(pool);
    pool.setReserved(true);
    const rx = pool.get();
    const w = pool.clgetWait(rx, RECV, { timeout: 1000 });
    pool.freem(held[0]);
    expect(await w).toBe(rx);
    expect(pool.stats().reservation.flag).toBe(true);
    pool.setReserved(false);
    expect(pool.stats().reservation.flag).toBe(false);
    pool.freem(rx);
  });
});
