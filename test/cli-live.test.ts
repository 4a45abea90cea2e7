// The CLI against a running service (--url): a process of its own
// (test/fixtures/live/service.ts) with a pinned pool, a TCP echo server under
// load and the operator pages. What the CLI prints for the live pool is what
// the pool prints in that process, and what the demo command prints for a
// pool in the same state; a write with the token moves the limit at once (an
// allocation that was denied succeeds); one without it, with a wrong one, of
// a bad value or to a service whose writes are off is refused with its exit
// status and nothing changes;
// oversized and malformed requests get 4xx while the service keeps serving.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatOutstanding, type OutstandingReport, type PoolStats } from "mbufpool";
import { serveMetrics } from "mbufpool/node";
import { makePool } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const SERVICE = fileURLToPath(new URL("./fixtures/live/service.ts", import.meta.url));
const TOKEN = "live-test-operator-token";
const NMBCLUSTERS = "kern.ipc.nmbclusters";

let child: ChildProcess;
let ports: { tcp: number; operator: string; control: string };
const clients: net.Socket[] = [];
let dir: string;

interface Run { out: string; err: string; code: number | null }

/** Runs the CLI with only the environment given (no MBUFPOOL_URL or token of the test's own). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MBUFPOOL_URL") && k !== "MBUFPOOL_OPERATOR_TOKEN"));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env } as NodeJS.ProcessEnv });
    let out = "", err = "";
    p.stdout.on("data", (d: Buffer) => { out += d; });
    p.stderr.on("data", (d: Buffer) => { err += d; });
    p.on("error", reject);
    p.on("close", (code) => resolve({ out, err, code }));
  });
}
const live = (...args: string[]): string[] => [...args, "--url", ports.operator];
const withToken = { MBUFPOOL_OPERATOR_TOKEN: TOKEN };

async function control(path: string, method = "GET"): Promise<string> {
  const r = await fetch(`${ports.control}${path}`, { method });
  expect(r.status).toBe(200);
  return r.text();
}
const controlJSON = async <T>(path: string, method = "GET"): Promise<T> => JSON.parse(await control(path, method)) as T;
const clusterLimit = async (): Promise<number> => (await controlJSON<PoolStats>("/stats")).clusters.limit;

/** Sends `size` patterned bytes over a connection to the echo server and resolves once all came back, equal. */
async function echoRound(sock: net.Socket, size: number, salt: number): Promise<void> {
  const sent = Buffer.alloc(size, 0).map((_, i) => (i * 31 + salt) & 0xff);
  const got: Buffer[] = [];
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      got.push(d);
      n += d.length;
      if (n >= size) {
        sock.off("data", onData);
        resolve();
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.write(sent);
  });
  expect(Buffer.concat(got).equals(sent)).toBe(true);
}

async function openClient(): Promise<net.Socket> {
  const s = net.connect(ports.tcp, "127.0.0.1");
  await new Promise((r, j) => { s.once("connect", r); s.once("error", j); });
  clients.push(s);
  return s;
}

/** One raw HTTP exchange with the operator port; resolves to the status code of the answer. */
function rawStatus(request: string | Buffer): Promise<number> {
  const { port } = new URL(ports.operator);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), "127.0.0.1");
    let text = "";
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on("error", reject);
    s.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    s.write(request);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mbufpool-live-"));
  child = spawn(process.execPath, ["--import", "tsx", SERVICE, TOKEN], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  ports = await new Promise((resolve, reject) => {
    let line = "";
    child.stdout!.on("data", (d: Buffer) => {
      line += d;
      if (line.includes("\n")) resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`the service exited with ${code}`)));
  });
  // Load: eight clients echo a few rounds larger than a cluster; half of them stay connected.
  const socks = await Promise.all(Array.from({ length: 8 }, openClient));
  for (let round = 0; round < 3; round++) await Promise.all(socks.map((s, i) => echoRound(s, 10_000 + 997 * i, round)));
  for (const s of socks.slice(4)) {
    await new Promise((r) => { s.once("close", r); s.end(); });
    clients.splice(clients.indexOf(s), 1);
  }
  // At rest once the service has closed its side of those four: the reports compared below hold still.
  while ((await controlJSON<{ open: number }>("/connections")).open !== 4) await new Promise((r) => setTimeout(r, 20));
});

afterAll(async () => {
  try {
    if (ports) {
      await control("/release", "POST");
      for (const s of clients.splice(0)) await new Promise((r) => { s.once("close", r); s.end(); });
      const audit = await controlJSON<{ ok: boolean; message: string }>("/audit");
      expect(audit.message).toBe("clean");
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the CLI on a running service (--url)", () => {
  it("netstat and vmstat print what the service's own pool prints, in every dialect", async () => {
    const stats = await controlJSON<PoolStats>("/stats");
    expect(stats.mbufs.allocs).toBeGreaterThan(0); // the load went through the pool
    for (const format of [undefined, "freebsd", "freebsd6", "freebsd4", "aix", "rtems", "json"]) {
      const r = await cli(live("netstat", "-m", ...(format ? ["-f", format] : [])));
      expect(r, format).toMatchObject({ code: 0, err: "" });
      expect(r.out, format).toBe(await control(`/netstat${format ? `?format=${format}` : ""}`));
    }
    expect((await cli(live("netstat", "--json"))).out).toBe(await control("/netstat?format=json"));
    expect((await cli(live("vmstat", "-z"))).out).toBe(await control("/vmstat"));
    expect(JSON.parse((await cli(live("vmstat", "--json"))).out)).toEqual(await controlJSON("/zones"));
  });

  it("sysctl and no read the service's tunables as the demo prints a pool with the same ones", async () => {
    const limit = String(await clusterLimit());
    const demo = ["-p", "freebsd", "--set", `${NMBCLUSTERS}=${limit}`];
    for (const args of [["sysctl", "-a"], ["sysctl", NMBCLUSTERS, "kern.ipc.nmbufs"], ["sysctl", "-d", NMBCLUSTERS],
      ["no", "-a"], ["no", "-o", NMBCLUSTERS]]) {
      const [l, d] = [await cli(live(...args)), await cli([...args, ...demo])];
      expect(l, args.join(" ")).toEqual({ ...d, code: 0 });
      if (!args.includes("-d")) expect(l.out).toContain(limit);
    }
  });

  it("leaks shows the service's outstanding mbufs, formatted as the pool formats them, and its detector's verdicts", async () => {
    const r = await cli(live("leaks", "--json", "--per-group", "3"));
    const report = JSON.parse(r.out) as { verdicts: unknown[]; outstanding: OutstandingReport };
    expect(report.outstanding).toEqual(await controlJSON("/outstanding?perGroup=3"));
    expect(report.outstanding.total).toBeGreaterThan(0); // the connected clients' posted reads
    expect(Array.isArray(report.verdicts)).toBe(true);
    expect(r.code).toBe(report.verdicts.length ? 1 : 0);
    const text = await cli(live("leaks", "--per-group", "3"));
    expect(text.out.endsWith(formatOutstanding(report.outstanding))).toBe(true);
  });

  it("watch samples the service over time, or charts its own recorded series", async () => {
    const stats = await controlJSON<PoolStats>("/stats");
    const r = await cli(live("watch", "--samples", "3", "--every", "20ms", "--json"));
    const series = JSON.parse(r.out) as { profile: string; samples: Array<{ t: number; mbufsInUse: number; clustersInUse: number }> };
    expect(series.profile).toBe("freebsd");
    expect(series.samples.map((s) => s.mbufsInUse)).toEqual([stats.mbufs.current, stats.mbufs.current, stats.mbufs.current]);
    expect(series.samples[2].t).toBeGreaterThan(series.samples[0].t);
    const recorded = JSON.parse((await cli(live("watch", "--series", "--json"))).out) as typeof series;
    expect(recorded.samples.length).toBeGreaterThan(0);
    expect(recorded.samples.at(-1)!.clustersInUse).toBe(stats.clusters.current);
    const chart = await cli(live("watch", "--samples", "2", "--every", "10ms", "--height", "4"));
    expect(chart.code).toBe(0);
    expect(chart.out).toMatch(/^# http:\/\/127\.0\.0\.1:\d+\/\n.*in use \(2 samples over/);
  });

  it("a write with the token moves the limit now: an allocation that was denied succeeds", async () => {
    const before = await clusterLimit();
    const { held } = await controlJSON<{ held: number }>("/hold", "POST");
    expect(held).toBeGreaterThan(0);
    expect(await controlJSON("/try", "POST")).toEqual({ ok: false });
    const r = await cli(live("sysctl", `${NMBCLUSTERS}=${before * 2}`), withToken);
    expect(r).toEqual({ out: `${NMBCLUSTERS}: ${before} -> ${before * 2}\n`, err: "", code: 0 });
    expect(await controlJSON("/try", "POST")).toEqual({ ok: true });
    // no, with the key in a file: set then show, and a reset to the default.
    const file = join(dir, "token");
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    const o = await cli(live("no", "-o", `${NMBCLUSTERS}=${before * 3}`, "-o", NMBCLUSTERS, "-o", "kern.ipc.mb_rcv_resv=4",
      "-d", "kern.ipc.mb_rcv_resv", "--token-file", file));
    expect(o).toEqual({ out: `${NMBCLUSTERS} = ${before * 3}\nkern.ipc.mb_rcv_resv: 4 -> 0 (the default)\n`, err: "", code: 0 });
    expect(await clusterLimit()).toBe(before * 3);
    // A key file others may read still works, with a warning.
    chmodSync(file, 0o644);
    const loose = await cli(live("sysctl", `${NMBCLUSTERS}=${before * 3}`, "--token-file", file));
    expect(loose).toEqual({ out: `${NMBCLUSTERS}: ${before * 3} -> ${before * 3}\n`, err: `mbufpool: warning: ${file} is readable by other users (chmod 600 it)\n`, code: 0 });
    await control("/release", "POST");
  });

  it("refuses a write without the token (77), with a wrong one (77), of a bad value (2) or against the rules (1); nothing changes", async () => {
    const limit = await clusterLimit();
    const write = `${NMBCLUSTERS}=${limit + 64}`;
    expect(await cli(live("sysctl", write))).toEqual({ out: "", err: "sysctl: a tunable write needs Authorization: Bearer TOKEN\n", code: 77 });
    expect(await cli(live("sysctl", write), { MBUFPOOL_OPERATOR_TOKEN: "not-the-operator-token" }))
      .toEqual({ out: "", err: "sysctl: wrong token\n", code: 77 });
    expect(await cli(live("no", "-o", write), { MBUFPOOL_OPERATOR_TOKEN: "not-the-operator-token" }))
      .toEqual({ out: "", err: "no: wrong token\n", code: 77 });
    // Bad usage and a refusal print what the demo prints for the same mistake.
    for (const [args, code] of [[["sysctl", `${NMBCLUSTERS}=lots`], 2], [["sysctl", "kern.ipc.bogus=1"], 2],
      [["no", "-d", "bogus"], 2], [["sysctl", `${NMBCLUSTERS}=1`], 1]] as const) {
      const [l, d] = [await cli(live(...args), withToken), await cli([...args, "-p", "freebsd", "--set", `${NMBCLUSTERS}=${limit}`])];
      expect(l, args.join(" ")).toEqual({ ...d, code });
    }
    expect((await cli(live("sysctl", `${NMBCLUSTERS}=1`), withToken)).err).toMatch(/^sysctl: ETUNABLE: .* may only raise the limit/);
    expect(await clusterLimit()).toBe(limit);
  });

  it("a service whose writes are off refuses every key (77), and keeps its value", async () => {
    const pool = makePool({ profile: "aix" });
    const off = await serveMetrics(pool, { token: "" });
    try {
      const r = await cli(["no", "-o", "thewall=4096", "--url", off.url], withToken);
      expect(r).toEqual({ out: "", err: expect.stringMatching(/^no: tunable writes are off: start the server with a token/), code: 77 });
      expect(pool.sysctl("thewall")).toBe(2048);
      expect((await cli(["no", "-o", "thewall", "--url", off.url])).out).toBe("thewall = 2048\n");
    } finally {
      await off.close();
    }
  });

  it("oversized and malformed requests get 4xx and the service keeps serving its clients", async () => {
    const statuses = [
      await rawStatus(`POST /tunables/${NMBCLUSTERS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n${"1".repeat(1000)}`),
      await rawStatus(`GET /netstat?format=${"x".repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      await rawStatus("GET /tunables/%E0%A4 HTTP/1.1\r\nHost: x\r\n\r\n"),
      await rawStatus(`GET /netstat HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`),
      await rawStatus("NONSENSE\r\n\r\n"),
      await rawStatus(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0, 0, 0])), // a TLS hello on the plain port
    ];
    expect(statuses).toEqual([413, 414, 400, 431, 400, 400]);
    expect(await clusterLimit()).toBeGreaterThan(0);
    // The echo clients still echo, and the CLI still reads.
    await Promise.all(clients.map((s, i) => echoRound(s, 5000, 40 + i)));
    expect((await cli(live("netstat"))).out).toBe(await control("/netstat"));
  });

  it("a service that cannot be reached, does not answer or is not an operator endpoint: one line, exit 69", async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await cli(["netstat", "--url", `http://127.0.0.1:${port}`]);
    expect(refused.code).toBe(69);
    expect(refused.err).toMatch(new RegExp(`^mbufpool: cannot reach http://127\\.0\\.0\\.1:${port}/stats: .*ECONNREFUSED.*\\n$`));
    // A server that accepts and never answers: the timeout ends the wait.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      expect(await cli(["vmstat", "--url", url, "--timeout", "300ms"]))
        .toEqual({ out: "", err: `mbufpool: ${url}/stats: no answer within 300 ms (--timeout)\n`, code: 69 });
    } finally {
      silent.close();
    }
    const other = await cli(["sysctl", "-a"], { MBUFPOOL_URL: `${ports.control}/elsewhere/` });
    expect(other.code).toBe(69);
    expect(other.err).toMatch(/^mbufpool: .*\/elsewhere\/tunables: 404 .*is this an mbufpool operator endpoint\?\)\n$/);
  });

  it("demo options with a URL, a key file without one, an unreadable key file: bad usage, 2", async () => {
    expect((await cli(live("netstat", "--profile", "aix"))).err).toMatch(/^mbufpool: option '-p, --profile <name>' cannot be used with option '--url <url>'/);
    expect((await cli(["leaks", "--workload", "leak"], { MBUFPOOL_URL: ports.operator })).code).toBe(2);
    expect((await cli(live("watch", "--ticks", "5"))).code).toBe(2);
    expect(await cli(["sysctl", "--token-file", join(dir, "token")])).toMatchObject({ code: 2, err: expect.stringMatching(/--token-file needs --url/) });
    expect(await cli(live("sysctl", "--token-file", join(dir, "missing"), `${NMBCLUSTERS}=4096`))).toMatchObject({ code: 2, err: expect.stringMatching(/ENOENT/) });
    expect(await cli(live("sysctl", `${NMBCLUSTERS}=4096`), { MBUFPOOL_OPERATOR_TOKEN: "key with spaces" })).toMatchObject({ code: 2, err: expect.stringMatching(/printable ASCII/) });
    expect((await cli(["netstat", "--url", "ftp://127.0.0.1/"])).code).toBe(2);
    expect((await cli(["netstat", "--url", "http://user:pw@127.0.0.1/"])).err).toMatch(/must not carry credentials/);
  });
});
