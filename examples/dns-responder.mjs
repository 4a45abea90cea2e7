// A DNS-style UDP responder over pool chains: queries are parsed out of chains
// with bounds checks (a label that claims to be longer than the packet is
// rejected and counted), replies go out from chains, and a reply the pool has
// no buffer for fails with ENOBUFS instead of hurting the server.
//
//   node examples/dns-responder.mjs            serve on 127.0.0.1:5353 (dig @127.0.0.1 -p 5353 example.org)
//   node examples/dns-responder.mjs --flood    serve, flood it with good and malformed queries, report, exit
import dgram from "node:dgram";
import { Pool } from "mbufpool";
import { createDnsResponder, buildQuery, serveMetrics } from "mbufpool/node";

const flood = process.argv.includes("--flood");
const pool = Pool.create({ pinned: true, tunables: { nmbclusters: 128 } });
const dns = createDnsResponder(pool, { answer: "192.0.2.1" });
dns.udp.on("nobufs", (e) => console.error(`sendto: ${e.message}`));
const { port } = await dns.bind(flood ? 0 : 5353);
const metrics = await serveMetrics(pool, { port: flood ? 0 : 9153 });
console.log(`dns on 127.0.0.1:${port}; metrics on ${metrics.url}/metrics`);

if (flood) {
  const client = dgram.createSocket("udp4");
  let answered = 0;
  client.on("message", () => answered++);
  await new Promise((r) => client.bind(0, "127.0.0.1", r));
  let sent = 0, malformed = 0;
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < 20; i++, sent++) {
      const bad = i % 4 === 3;
      if (bad) malformed++;
      const q = buildQuery(sent & 0xffff, `host${sent}.example`, bad ? { claimLonger: 40 } : {});
      await new Promise((r) => client.send(q, port, "127.0.0.1", r));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 200));
  console.log(`sent ${sent} queries (${malformed} malformed): ${answered} answered`);
  console.log("responder:", dns.stats, "udp:", dns.udp.stats);
  client.close();
  await dns.close();
  await metrics.close();
  console.log(`outstanding buffers: ${pool.outstanding().total}; audit: ${pool.audit().message}`);
  console.log(pool.netstat());
  pool.close();
}
