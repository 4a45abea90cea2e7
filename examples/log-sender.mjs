// Seed 001's FTP log sender, done so it always recovers: a server formats log
// records (read from "flash") into text and sends them to each client from
// chains. A client that stops reading fills its send socket buffer; the
// sender then waits for "drain" instead of taking more clusters, and the idle
// timeout drops the stuck connection, which frees both socket buffers and
// every buffer it held (seed 003's tcp_drop fix). Runs a fast and a stuck
// client against it, prints what happened and exits.
//
//   node examples/log-sender.mjs
import net from "node:net";
import { Pool } from "mbufpool";
import { createServer } from "mbufpool/node";

const RECORDS = 150_000;
const pool = Pool.create({ pinned: true, profile: "rtems", reserve: 8, reserveFlag: true });
const server = createServer(pool, { idleTimeoutMs: 2000, keepAliveMs: 1000, sndHiwat: 16384 }, async (conn) => {
  conn.on("drop", (why) => console.log(`connection ${conn.owner} dropped (${why}): its buffers are back`));
  for (let i = 0; i < RECORDS && !conn.released; i++) {
    // The "file send hook": one formatted record per chain.
    const line = `${new Date(1_100_000_000_000 + i * 1000).toISOString()} sensor=${i % 16} value=${(i * 37) % 1000}\n`;
    const record = Buffer.from(line);
    // writeBytes takes what the send buffer and the pool hold now and says how much (as write(2)):
    // write the rest once drained; never spin, never hoard, never send a byte twice.
    let off = 0;
    while (off < record.length && !conn.released) {
      off += conn.writeBytes(record.subarray(off));
      if (off < record.length) await conn.drained();
    }
  }
  conn.end();
});
const { port } = await server.listen(0);

function client(name, stopAfter) {
  return new Promise((resolve) => {
    let bytes = 0;
    const c = net.connect(port, "127.0.0.1");
    c.on("data", (d) => {
      bytes += d.length;
      if (bytes >= stopAfter && !c.isPaused()) {
        c.pause(); // the stuck client: stops reading, keeps the connection...
        setTimeout(() => c.destroy(), 6000); // ...until long after the server dropped it
      }
    });
    c.on("error", () => {});
    c.on("close", () => resolve(`${name} client: ${bytes} bytes`));
  });
}

const results = await Promise.all([client("fast", Infinity), client("stuck", 64 * 1024)]);
for (const r of results) console.log(r);
console.log("server:", server.stats);
await server.close();
console.log(`outstanding buffers: ${pool.outstanding().total}; audit: ${pool.audit().message}`);
console.log(pool.netstat());
pool.close();
