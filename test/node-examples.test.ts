// The README's Node service and examples/*.mjs, run as a user runs them: in a
// child process of their own (on the build under test: MBUFPOOL_BUILD is
// inherited), driven over loopback through the happy and the unhappy paths.
import { describe, it, expect } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { reusePortSupported } from "mbufpool/node";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Run { child: ChildProcess; out: () => string; exit: Promise<number | null> }

/** Starts `node args` in the checkout (so "mbufpool" resolves to it), collecting stdout and stderr. */
function run(args: string[]): Run {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, exit };
}

/** Waits until `cond` holds (checked every 20 ms), at most `ms`; `what` says what did not happen. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not reached in time: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    }).on("error", reject);
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** The value of a metric line `name{name="tcp"} v`. */
const metric = (text: string, name: string): number =>
  Number(new RegExp(`^${name}\\{name="tcp"[^}]*\\} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);

function payload(k: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + k * 7 + (i >> 8)) & 255;
  return b;
}

/** Writes `data`, half-closes right after, and resolves with what came back (optionally reading slowly); `sent` once the FIN went out. */
function halfClose(port: number, data: Buffer, slow = false, sent?: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    let paused = false;
    c.on("data", (d: Buffer) => {
      got.push(d);
      if (slow && !paused) {
        paused = true;
        c.pause();
        setTimeout(() => c.resume(), 500);
      }
    });
    c.on("error", reject);
    c.on("end", () => resolve(Buffer.concat(got)));
    c.on("finish", () => sent?.());
    c.on("connect", () => {
      c.write(data);
      c.end();
    });
  });
}

/** A client that sends `size` bytes and resets the connection once some came back. */
function resetMidStream(port: number, size: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    let n = 0;
    c.on("error", () => {});
    c.on("close", () => resolve());
    c.on("data", (d: Buffer) => {
      if ((n += d.length) >= 50_000 && !c.destroyed) c.resetAndDestroy();
    });
    c.on("connect", () => c.write(payload(99, size)));
  });
}

/**
 * Drives an echo server at `port` with metrics at `metricsUrl` through half-closing clients (sizes that end
 * on a full read), a burst six times its pool, slow readers and resets mid-stream; then checks the counters
 * and that the pool holds no more than before. (Its pool of 1024 clusters does not run dry here: the socket
 * buffers bound what connections take, and no connection keeps a cluster posted for a read; node-tcp.test.ts runs the same handler into small pools.)
 */
async function driveEcho(port: number, metricsUrl: string, server: ChildProcess): Promise<void> {
  const inUse = async (): Promise<number> => {
    const j = JSON.parse((await get(`${metricsUrl}/netstat?format=json`)).body);
    return j.zones.mbuf.inUse + j.zones.cluster.inUse + j.packets.inUse;
  };
  const before = await inUse();
  let total = 0;
  for (const [k, size] of [1, 2048, 10_000, 10_240, 1 << 20].entries()) {
    const data = payload(k, size);
    expect((await halfClose(port, data)).equals(data)).toBe(true);
    total += size;
  }
  // A busy server (stopped here) finds the data and the FIN already waiting: both come in one batch of reads.
  server.kill("SIGSTOP");
  let sent = 0;
  const waiting = [2048, 4096, 10_240, 65_536].map((size, k) => payload(k, size));
  const echoed = waiting.map((d) => halfClose(port, d, false, () => ++sent));
  await until(() => sent === waiting.length, 10_000, () => `${sent} clients sent`).finally(() => server.kill("SIGCONT"));
  expect((await Promise.all(echoed)).map((b, k) => b.equals(waiting[k]))).toEqual(waiting.map(() => true));
  total += waiting.reduce((n, d) => n + d.length, 0);
  // 48 clients x 256 KiB at once: 12 MiB against a pool of 1024 clusters (2 MiB).
  const datas = Array.from({ length: 48 }, (_, k) => payload(k, 256 * 1024));
  const backs = await Promise.all(datas.map((d, k) => halfClose(port, d, k % 8 === 0)));
  expect(backs.filter((b, k) => b.equals(datas[k])).length).toBe(datas.length);
  total += datas.length * 256 * 1024;
  await Promise.all(Array.from({ length: 6 }, () => resetMidStream(port, 4 << 20)));
  let m = "";
  await until(async () => metric(m = (await get(`${metricsUrl}/metrics`)).body, "mbufpool_node_tcp_open") === 0,
    10_000, () => `connections still open:\n${m}`);
  // Resets write part of their echo; every half-closing client got exactly what it sent.
  expect(metric(m, "mbufpool_node_tcp_bytes_out_total")).toBeGreaterThanOrEqual(total);
  expect(metric(m, "mbufpool_node_tcp_bytes_out_total")).toBeLessThanOrEqual(metric(m, "mbufpool_node_tcp_bytes_in_total"));
  expect(metric(m, "mbufpool_node_tcp_errors_total")).toBeGreaterThan(0);
  expect(await inUse()).toBe(before);
}

describe("mbufpool/node examples, run as written", () => {
  /** The README's echo block, as the user copies it. */
  const readmeEcho = (): string => {
    // The block marked for this file (test/docs.test.ts checks that it is the only one).
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const code = /<!-- run: node-examples -->\n```js\n([\s\S]*?)```/.exec(readme)![1];
    expect(code).toContain('conn.on("end", () => conn.end());');
    // The two fixed ports are the only change: the debug and release runs of this file run side by side.
    expect(code.match(/7007|9107/g)).toEqual(["7007", "9107"]);
    return code;
  };

  /** Runs `code` with its two ports replaced, drives it, and returns its /metrics text at the end. */
  async function runEcho(code: string): Promise<string> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const r = run(["--input-type=module", "-e", code.replace("7007", String(port)).replace("9107", String(metricsPort))]);
    try {
      const metricsUrl = `http://127.0.0.1:${metricsPort}`;
      await until(async () => (await get(`${metricsUrl}/metrics`).catch(() => ({ status: 0 }))).status === 200,
        10_000, () => `the snippet did not start:\n${r.out()}`);
      await driveEcho(port, metricsUrl, r.child);
      expect((await get(`${metricsUrl}/netstat?format=aix`)).status).toBe(200);
      return (await get(`${metricsUrl}/metrics`)).body;
    } finally {
      r.child.kill();
      await r.exit;
    }
  }

  it("the README's echo server, copied verbatim (ports aside): half-close, slow readers, resets", async () => {
    await runEcho(readmeEcho());
  }, 60_000);

  it("the README's echo server on a pool that runs dry (64 clusters, its size the only other change): every byte echoed, back-pressure instead of loss", async () => {
    const code = readmeEcho();
    expect(code).toContain("nmbclusters: 1024");
    const m = await runEcho(code.replace("nmbclusters: 1024", "nmbclusters: 64"));
    // Reads waited for the pool or shrank under its shortage, and writers waited for drain.
    expect(metric(m, "mbufpool_node_tcp_paused_pool_total") + metric(m, "mbufpool_node_tcp_spilled_reads_total")
      + metric(m, "mbufpool_node_tcp_read_denied_total")).toBeGreaterThan(0);
  }, 90_000);

  it("examples/echo-server.mjs: the same load, then SIGINT closes it with the audit clean", async () => {
    const r = run(["examples/echo-server.mjs", "0", "0"]);
    let port = 0, metricsUrl = "";
    try {
      await until(() => {
        const m = /echo on [\d.]+:(\d+); metrics on (http:\/\/[\d.]+:\d+)\/metrics/.exec(r.out());
        if (m) [port, metricsUrl] = [Number(m[1]), m[2]];
        return m !== null;
      }, 10_000, () => `did not start:\n${r.out()}`);
      await driveEcho(port, metricsUrl, r.child);
      expect((await get(`${metricsUrl}/netstat?format=freebsd`)).status).toBe(200);
      r.child.kill("SIGINT");
      expect(await r.exit).toBe(0);
      expect(r.out()).toContain("closed: audit clean");
    } finally {
      r.child.kill();
    }
  }, 60_000);

  // Node's reusePort (22.12 and 23.1 on): on an older Node startWorkers refuses (node-workers.test.ts).
  const reusePort = reusePortSupported();

  it("docs/node.md's excerpts of examples/echo-workers.mjs and echo-worker.mjs are the examples' own lines", () => {
    const doc = readFileSync(path.join(root, "docs/node.md"), "utf8");
    const blocks = [...doc.matchAll(/<!-- run: echo-workers -->\n```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBe(2);
    const example = ["examples/echo-workers.mjs", "examples/echo-worker.mjs"]
      .map((f) => readFileSync(path.join(root, f), "utf8").split("\n").map((l) => l.trimEnd()));
    blocks.forEach((b, k) => {
      const missing = b.split("\n").filter((l) => l.trim() !== "" && !example[k].includes(l.trimEnd()));
      expect(missing).toEqual([]);
    });
  });

  it.skipIf(!reusePort)("examples/echo-workers.mjs: two workers over one pool, the same unhappy paths, one netstat and one audit at SIGINT", async () => {
    const r = run(["examples/echo-workers.mjs", "0", "2", "0"]);
    let port = 0, metricsUrl = "";
    try {
      await until(() => {
        const m = /echo on [\d.]+:(\d+) in 2 workers; metrics on (http:\/\/[\d.]+:\d+)\/netstat/.exec(r.out());
        if (m) [port, metricsUrl] = [Number(m[1]), m[2]];
        return m !== null;
      }, 10_000, () => `did not start:\n${r.out()}`);
      const inUse = async (): Promise<number> => {
        const j = JSON.parse((await get(`${metricsUrl}/netstat?format=json`)).body);
        return j.zones.mbuf.inUse + j.zones.cluster.inUse;
      };
      const before = await inUse();
      for (const [k, size] of [1, 2048, 10_240, 1 << 20].entries()) {
        const data = payload(k, size);
        expect((await halfClose(port, data)).equals(data)).toBe(true);
      }
      // Connections held open: the main thread's /leaks sees both workers' sockets, each in its owner range.
      const held = await Promise.all(Array.from({ length: 24 }, () => new Promise<net.Socket>((resolve, reject) => {
        const c = net.connect(port, "127.0.0.1", () => c.write("x"));
        c.once("data", () => resolve(c)).on("error", reject);
      })));
      const leaks = JSON.parse((await get(`${metricsUrl}/leaks`)).body) as { outstanding: { groups: { owner: number }[] } };
      // Worker i's owner range starts at (i + 1) << 24 (ownerRange).
      const workersSeen = new Set(leaks.outstanding.groups.map((g) => (g.owner >>> 24) - 1));
      expect([...workersSeen].sort()).toEqual([0, 1]);
      for (const c of held) c.destroy();
      // The whole process stopped, then a burst of slow and fast readers, then resets mid-stream.
      r.child.kill("SIGSTOP");
      let sent = 0;
      const waiting = [2048, 65_536].map((size, k) => payload(k, size));
      const echoed = waiting.map((d) => halfClose(port, d, false, () => ++sent));
      await until(() => sent === waiting.length, 10_000, () => `${sent} clients sent`).finally(() => r.child.kill("SIGCONT"));
      expect((await Promise.all(echoed)).every((b, k) => b.equals(waiting[k]))).toBe(true);
      const datas = Array.from({ length: 48 }, (_, k) => payload(k, 256 * 1024));
      const backs = await Promise.all(datas.map((d, k) => halfClose(port, d, k % 8 === 0)));
      expect(backs.filter((b, k) => b.equals(datas[k])).length).toBe(datas.length);
      await Promise.all(Array.from({ length: 6 }, () => resetMidStream(port, 4 << 20)));
      // Every connection gone, in whichever worker it was: the pool holds what it held before.
      await until(async () => (await inUse()) === before, 10_000, () => "buffers still in use");
      r.child.kill("SIGINT");
      expect(await r.exit).toBe(0);
      expect(r.out()).toMatch(/^0\/\d+\/\d+ mbufs in use/m);
      expect(r.out()).toContain("closed: audit clean");
    } finally {
      r.child.kill();
    }
  }, 90_000);

  it("examples/log-sender.mjs: the fast client gets every record, the stuck one is dropped, every buffer comes back", async () => {
    const r = run(["examples/log-sender.mjs"]);
    expect(await r.exit).toBe(0);
    const out = r.out();
    let bytes = 0;
    for (let i = 0; i < 150_000; i++) {
      bytes += `${new Date(1_100_000_000_000 + i * 1000).toISOString()} sensor=${i % 16} value=${(i * 37) % 1000}\n`.length;
    }
    expect(out).toContain(`fast client: ${bytes} bytes`);
    const stuck = Number(/stuck client: (\d+) bytes/.exec(out)?.[1]);
    expect(stuck).toBeGreaterThanOrEqual(64 * 1024);
    expect(stuck).toBeLessThan(bytes);
    // Dropped on the idle timeout (2 s), unless a loaded machine let the client's reset (6 s) come first.
    expect(/connection \d+ dropped \(idle\): its buffers are back/.test(out) || /errors: 1,/.test(out)).toBe(true);
    expect(out).toContain("outstanding buffers: 0; audit: clean");
  }, 60_000);

  it("examples/dns-responder.mjs --flood: valid queries answered, malformed ones counted, nothing leaked", async () => {
    const r = run(["examples/dns-responder.mjs", "--flood"]);
    expect(await r.exit).toBe(0);
    const out = r.out();
    const m = /sent (\d+) queries \((\d+) malformed\): (\d+) answered/.exec(out);
    expect(m).not.toBeNull();
    const [sent, malformed, answered] = m!.slice(1).map(Number);
    expect(sent).toBe(2000);
    expect(malformed).toBe(500);
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(sent - malformed);
    expect(out).toContain("outstanding buffers: 0; audit: clean");
  }, 60_000);
});
