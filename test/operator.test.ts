// The operator's pages of a running pool over HTTP: reads match the pool's
// own reports and snapshot; a write with the token changes the live pool at once (an
// allocation that was denied succeeds), one without it, with a wrong one or
// of a bad value changes nothing; oversized and malformed requests get 4xx and
// the server keeps serving.
import { describe, it, expect, afterEach } from "vitest";
import net from "node:net";
import { serveMetrics, type MetricsServer } from "mbufpool/node";
import { MbufError, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

const TOKEN = "s3cret-operator-token";
let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(pool: Pool, token: string | undefined = TOKEN): Promise<string> {
  server = await serveMetrics(pool, { token });
  return server.url;
}

const post = (url: string, body: string, auth?: string): Promise<Response> =>
  fetch(url, { method: "POST", body, headers: auth === undefined ? {} : { authorization: auth } });

describe("the operator's pages", () => {
  it("read netstat -m in every dialect, vmstat -z, the tunables and the outstanding buffers as the pool reports them", async () => {
    const pool = makePool({ profile: "freebsd4", tunables: { nmbclusters: 64 } });
    const held = [pool.getcl(), pool.getcl()];
    const url = await start(pool);
    for (const format of ["freebsd4", "aix", "rtems", "json"]) {
      expect(await (await fetch(`${url}/netstat?format=${format}`)).text()).toBe(`${pool.netstat({ format }).replace(/\n$/, "")}\n`);
    }
    expect(await (await fetch(`${url}/vmstat`)).text()).toBe(`${pool.vmstatZ()}\n`);
    expect(await (await fetch(`${url}/vmstat?format=json`)).json()).toEqual(JSON.parse(JSON.stringify(pool.zones())));
    expect(await (await fetch(`${url}/stats`)).json()).toEqual(JSON.parse(JSON.stringify(pool.stats())));
    const tunables = await (await fetch(`${url}/tunables`)).json() as { profile: string; tunables: unknown[] };
    expect(tunables).toEqual({ profile: "freebsd4", tunables: JSON.parse(JSON.stringify(pool.listTunables())) });
    const leaks = await (await fetch(`${url}/leaks`)).json() as { outstanding: { total: number } };
    expect(JSON.stringify(leaks.outstanding)).toBe(JSON.stringify(pool.outstanding({ perGroup: 8 })));
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    for (const m of held) pool.freem(m);
  });

  it("a write with the token moves the limit now, as sysctl does, and is an event and a log line", async () => {
    const logged: string[] = [];
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 4 }, packetZone: false, logger: (l) => logged.push(l) });
    const held = [pool.getcl(), pool.getcl(), pool.getcl(), pool.getcl()];
    expect(pool.getcl()).toBe(0);
    const events: Array<{ name: string; old: number; new: number; by: string }> = [];
    pool.on("tunable", (e) => events.push(e));
    const url = await start(pool);
    const r = await post(`${url}/tunables/kern.ipc.nmbclusters`, "8", `Bearer ${TOKEN}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ name: "kern.ipc.nmbclusters", old: 4, new: 8 });
    const m = pool.getcl();
    expect(m).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ name: "kern.ipc.nmbclusters", old: 4, new: 8, by: expect.stringMatching(/^operator 127\.0\.0\.1|^operator ::ffff:127\.0\.0\.1/) });
    expect(logged.at(-1)).toMatch(/kern\.ipc\.nmbclusters: 4 -> 8 \(by operator/);
    for (const h of [...held, m]) pool.freem(h);
  });

  it("refuses writes without the token, with a wrong one, of a bad value, or when writes are off; nothing changes", async () => {
    const pool = makePool({ profile: "aix" });
    const before = pool.sysctl("thewall");
    let url = await start(pool);
    const at = `${url}/tunables/thewall`;
    expect((await post(at, String(before * 2))).status).toBe(401);
    expect((await post(at, String(before * 2), "Bearer nope-nope-nope")).status).toBe(403);
    const bad = await post(at, "lots", `Bearer ${TOKEN}`);
    expect(bad.status).toBe(400);
    const refused = await post(at, "1", `Bearer ${TOKEN}`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/^ETUNABLE: thewall=1 refused: /);
    // A name the profile does not have is 404 (a mistake, not a refusal), read or written.
    const unknown = await post(`${url}/tunables/sb_max`, "1", `Bearer ${TOKEN}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/^ETUNABLE: unknown tunable "sb_max"/);
    expect((await fetch(`${url}/tunables/sb_max`)).status).toBe(404);
    expect((await fetch(`${url}/tunables/%E0`)).status).toBe(400);
    expect(pool.sysctl("thewall")).toBe(before);
    await server!.close();
    url = await start(pool, "");
    expect((await post(`${url}/tunables/thewall`, String(before * 2), `Bearer ${TOKEN}`)).status).toBe(403);
    expect(pool.sysctl("thewall")).toBe(before);
  });

  it("resets a tunable to its default (no -d) with the token", async () => {
    const pool = makePool({ profile: "aix" });
    const info = pool.tunable("lowclust");
    pool.sysctl("lowclust", info.default + 1);
    const url = await start(pool);
    const r = await post(`${url}/tunables/lowclust/reset`, "", `Bearer ${TOKEN}`);
    expect(await r.json()).toEqual({ name: "lowclust", old: info.default + 1, new: info.default });
  });

  it("oversized and malformed requests get 4xx and the server keeps serving", async () => {
    const pool = makePool();
    const url = await start(pool);
    expect((await post(`${url}/tunables/kern.ipc.nmbclusters`, "1".repeat(10_000), `Bearer ${TOKEN}`)).status).toBe(413);
    expect((await fetch(`${url}/netstat?format=${"x".repeat(3000)}`)).status).toBe(414);
    expect((await fetch(`${url}/netstat?format=klingon`)).status).toBe(400);
    expect((await fetch(`${url}/metrics`, { method: "DELETE" })).status).toBe(405);
    // A client that sends half a request and stalls does not hold the others.
    const { port } = new URL(url);
    const stalled = net.connect(Number(port), "127.0.0.1");
    await new Promise((r) => stalled.once("connect", r));
    stalled.write("POST /tunables/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
    expect((await fetch(`${url}/netstat`)).status).toBe(200);
    stalled.destroy();
  });

  it("binding an address other than loopback without a token is refused at start", () => {
    const pool = makePool();
    expect(() => serveMetrics(pool, { host: "0.0.0.0" })).toThrow(MbufError);
    expect(() => serveMetrics(pool, { host: "0.0.0.0", token: "short" })).toThrow(/at least 8/);
    expect(() => serveMetrics(pool, { prot: 9100 } as never)).toThrow(/did you mean port\?/);
  });
});
