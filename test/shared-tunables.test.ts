// Tunables of a shared pool (src/pool/shared-tunables.ts): one set for every
// thread. A write in any thread (sysctl, setReserve, resetTunable) is in force
// in the core at once and in every other thread's reads and rules from its
// next call, so no thread plans a write from values another replaced. The
// hand-set reservation flag (setReserved) is every thread's too.
import { describe, it, expect } from "vitest";
import { spawnShared } from "./shared-worker.js";
import { M_NOWAIT, M_RECV } from "mbufpool";
import { makePool, code } from "./helpers.js";

const ask = (w: ReturnType<typeof spawnShared>, name: string, ...args: unknown[]): Promise<unknown> => w.ask({ cmd: "call", name, args });

describe("tunables of a shared pool", () => {
  it("a write in one thread is every thread's: reads, limits and the next write's rules", async () => {
    const pool = makePool({ shared: true, tunables: { "kern.ipc.nmbclusters": 16 } });
    const w = spawnShared(pool.shareHandle());
    try {
      // Raised in the worker: this thread reads it and may take the clusters it allows.
      expect(await ask(w, "sysctl", "kern.ipc.nmbclusters", 40)).toMatchObject({ old: 16, new: 40 });
      expect(pool.sysctl("kern.ipc.nmbclusters")).toBe(40);
      expect(pool.stats().clusters.limit).toBe(40);
      const got: number[] = [];
      for (let m = pool.getcl(); m !== 0; m = pool.getcl()) got.push(m);
      expect(got.length).toBe(40);
      for (const m of got) pool.freem(m);
      // Written here: the worker's next write starts from it (old is 40's successor, not 16).
      expect(pool.sysctl("kern.ipc.nmbclusters", 48)).toMatchObject({ old: 40, new: 48 });
      expect(await ask(w, "sysctl", "kern.ipc.nmbclusters", 56)).toMatchObject({ old: 48, new: 56 });
      // The reserve and a reset, from either side.
      pool.setReserve(4);
      expect(await ask(w, "tunable", "kern.ipc.nmbclusters")).toMatchObject({ value: 56 });
      const reserve = pool.listTunables().find((t) => t.value === 4)!.name;
      expect(await ask(w, "sysctl", reserve)).toBe(4);
      expect(await ask(w, "resetTunable", "kern.ipc.nmbclusters")).toMatchObject({ old: 56 });
      expect(pool.sysctl("kern.ipc.nmbclusters")).toBe(pool.tunable("kern.ipc.nmbclusters").default);
      // A refused write changes nothing anywhere.
      expect(code(() => pool.sysctl("kern.ipc.nmbclusters", -1))).toBe("ETUNABLE");
      expect(await ask(w, "sysctl", "kern.ipc.nmbclusters")).toBe(pool.sysctl("kern.ipc.nmbclusters"));
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("the hand-set reservation flag, raised in one thread, holds in every thread until lowered anywhere", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      pool.setReserved(true);
      expect(await ask(w, "getcl")).toBe(0); // not M_RECV: refused, as in the raising thread
      expect(pool.getcl()).toBe(0);
      const denied = pool.stats().reservedDenied;
      expect(pool.stats().reservation.flag).toBe(true);
      expect(denied).toBeGreaterThanOrEqual(2);
      // The worker re-reads the rule (a tunable write does): the flag it finds raised by hand stays up.
      expect(await ask(w, "sysctl", "kern.ipc.nmbclusters", pool.sysctl("kern.ipc.nmbclusters") + 8)).toMatchObject({ name: "kern.ipc.nmbclusters" });
      expect(await ask(w, "getcl")).toBe(0); // asked there, before this thread looks again
      const recv = await ask(w, "getcl", M_NOWAIT | M_RECV) as number; // the receive class still gets one
      expect(recv).toBeGreaterThan(0);
      expect(await ask(w, "setReserved", false)).toBeNull();
      const m = pool.getcl();
      expect(m).toBeGreaterThan(0);
      pool.freem(m);
      pool.freem(recv);
    } finally {
      await w.close();
    }
  });
});
