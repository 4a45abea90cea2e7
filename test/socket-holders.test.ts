// socketClassifier: the leak detector names real socket buffers as holders.
import { describe, it, expect } from "vitest";
import { socketClassifier, VirtualClock, M_NOWAIT, MT } from "mbufpool";
import { makePool } from "./helpers.js";

/** A small data packet of `n` bytes. */
function packet(pool: ReturnType<typeof makePool>, n: number): number {
  const m = pool.gethdr(M_NOWAIT, MT.DATA);
  expect(pool.append(m, new Uint8Array(n).fill(7))).toBe(true);
  return m;
}

describe("socketClassifier", () => {
  it("names the socket, its PCB and each socket buffer's records; leaves leaked chains unnamed", () => {
    const pool = makePool();
    const sockets = new Set<number>();
    const so = pool.socreate({ pcb: true });
    sockets.add(so);
    for (let i = 0; i < 3; i++) expect(pool.sbappendrecord(so, "rcv", packet(pool, 100))).toBe(true);
    expect(pool.sbappendrecord(so, "snd", packet(pool, 50))).toBe(true);
    const leaked = [packet(pool, 10), packet(pool, 10)];
    const classify = socketClassifier(pool, sockets);
    expect(classify(so)).toBe(`socket ${so}`);
    expect(classify(pool.sopcb(so))).toBe(`socket ${so}`);
    expect(classify(pool.sbstat(so, "rcv").mb)).toBe(`sockbuf:so_rcv of socket ${so}`);
    expect(classify(pool.sbstat(so, "snd").mb)).toBe(`sockbuf:so_snd of socket ${so}`);
    for (const m of leaked) expect(classify(m)).toBeUndefined();

    const r = pool.outstanding({ classify });
    expect(r.byHolder[`sockbuf:so_rcv of socket ${so}`]).toBe(3); // every record, followed down m_nextpkt
    expect(r.byHolder[`sockbuf:so_snd of socket ${so}`]).toBe(1);
    expect(r.byHolder[`socket ${so}`]).toBe(2);
    expect(r.unheld).toBe(2);
    expect(r.held).toBe(6);

    // The set is live: a socket that leaves it is no longer named.
    sockets.delete(so);
    expect(classify(so)).toBeUndefined();
    pool.soclose(so);
    for (const m of leaked) pool.freem(m);
  });

  it("lets the trend detector tell an unread socket from a leak", () => {
    for (const kind of ["unread", "leak"] as const) {
      const clock = new VirtualClock();
      const pool = makePool({ clock });
      const so = pool.socreate();
      const leaked: number[] = [];
      const det = pool.watchLeaks({ intervalMs: 100, window: 20, minRise: 8, classify: socketClassifier(pool, [so], () => "the app") });
      for (let t = 0; t < 40; t++) {
        const m = packet(pool, 64);
        if (kind === "unread") expect(pool.sbappendrecord(so, "rcv", m)).toBe(true);
        else leaked.push(m);
        clock.advance(100);
      }
      det.stop();
      expect(det.verdicts.map((v) => v.diagnosis)).toEqual([kind === "unread" ? "unread-socket" : "leak"]);
      if (kind === "unread") expect(det.verdicts[0].message).toContain("sockbuf:so_rcv of the app");
      pool.soclose(so);
      for (const m of leaked) pool.freem(m);
    }
  });
});
