// The core library under another runtime (Bun, Deno, a Node line): create a
// pool, move bytes through a chain, print netstat -m, audit clean. Exits 1 on
// any difference. Run by .ci/run on every runtime the README names.
import { Pool, MT, M_NOWAIT } from "../../dist/index.js";

const pool = Pool.create();
const m = pool.getcl(M_NOWAIT, MT.DATA);
const bytes = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
if (!pool.append(m, bytes)) throw new Error("append failed");
const back = pool.copydata(m, 0, 3000);
if (back.length !== 3000 || back.some((b, i) => b !== bytes[i])) throw new Error("bytes differ after a round trip");
const head = pool.prepend(m, new Uint8Array([1, 2, 3, 4]));
const tail = pool.split(head, 1000);
pool.cat(head, tail);
if (pool.length(head) !== 3004) throw new Error(`length ${pool.length(head)}, expected 3004`);
console.log(pool.netstat());
pool.freem(head);
const audit = pool.audit();
if (!audit.ok || pool.stats().mbufs.current !== 0) throw new Error(`audit: ${audit.message}`);
pool.close();
console.log("smoke: ok");
