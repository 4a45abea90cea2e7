// A DNS-style UDP responder over pool chains (seed 000's server, hardened).
//
// Each query arrives as a chain; the parser (src/proto/dns.ts, parseQueryChain) reads it with a
// bounds check on every length, so a label that claims to be longer than the
// packet is rejected and counted, never read past or kept. A valid A query is
// answered from a chain: the header and question are copied out of the query
// (m_copym), the flags patched (m_copyback) and the answer appended (m_append).
// If the pool cannot give the reply's buffers the reply fails with ENOBUFS:
// counted and dropped, the responder carries on.

import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import { parseQueryChain, MAX_QUERY } from "../proto/dns.js";
import { MbufError, checkInt } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import { MbufUdpSocket, NoBufferSpaceError, type UdpOptions } from "./udp.js";

export { parseQuery, buildQuery, type DnsParse } from "../proto/dns.js";

/** Options of createDnsResponder. */
export interface DnsResponderOptions extends UdpOptions {
  /** The IPv4 address every A query is answered with ("127.0.0.1"). */
  answer?: string;
  /** TTL of the answers in seconds (60). */
  ttl?: number;
}

/** What a responder has seen. */
export interface DnsStats {
  queries: number;
  answered: number;
  /** Queries rejected by the parser, in total and by reason. */
  malformed: number;
  reasons: Record<string, number>;
  /** Replies that could not be built or sent for want of buffers (ENOBUFS). */
  nobufs: number;
}

/** A DNS-style responder: the UDP socket, its counters, and close(). */
export interface DnsResponder {
  readonly udp: MbufUdpSocket;
  readonly stats: DnsStats;
  bind(port?: number, address?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}


/** Every key DnsResponderOptions has. */
const DNS_OPTION_KEYS = optionKeys<DnsResponderOptions>({ type: 1, owner: 1, baseOwner: 1, name: 1, metrics: 1, answer: 1, ttl: 1 });

/**
 * A DNS-style UDP responder over pool chains (answers A queries, NOTIMP otherwise).
 * @throws MbufError EINVAL if the pool is not pinned or an option is bad.
 */
export function createDnsResponder(pool: Pool, options: DnsResponderOptions = {}): DnsResponder {
  checkOptions(options, "createDnsResponder options", DNS_OPTION_KEYS);
  const answer = options.answer ?? "127.0.0.1";
  const addr = typeof answer === "string" ? answer.split(".").map(Number) : [];
  if (addr.length !== 4 || addr.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new MbufError("EINVAL", `answer must be an IPv4 address, got ${String(options.answer)}`);
  }
  const ttl = checkInt(options.ttl ?? 60, "createDnsResponder: ttl", 0, 0x7fffffff);
  const { answer: _answer, ttl: _ttl, ...udpOptions } = options;
  const udp = new MbufUdpSocket(pool, { name: "dns", ...udpOptions }, "createDnsResponder", DNS_OPTION_KEYS);
  const stats: DnsStats = { queries: 0, answered: 0, malformed: 0, reasons: {}, nobufs: 0 };
  const scratch = new Uint8Array(MAX_QUERY);
  const answerA = Uint8Array.from([0xc0, 12, 0, 1, 0, 1, ttl >>> 24, (ttl >>> 16) & 255, (ttl >>> 8) & 255, ttl & 255, 0, 4, ...addr]);

  const reject = (m: number, error: string): void => {
    stats.malformed++;
    stats.reasons[error] = (stats.reasons[error] ?? 0) + 1;
    pool.freem(m);
  };

  udp.on("message", (m: number, rinfo: { port: number; address: string }) => {
    stats.queries++;
    // One mbuf is read in place; a longer chain is copied out whole (never past its end).
    const q = parseQueryChain(pool, m, scratch);
    if (!q.ok) return reject(m, q.error);
    const isA = q.qtype === 1;
    const reply = pool.copym(m, 0, q.end);
    pool.freem(m);
    const fail = (): void => {
      stats.nobufs++;
      udp.emit("nobufs", new NoBufferSpaceError());
    };
    if (reply === 0) return fail();
    // QR, RD copied, RA; rcode NOTIMP for anything but A. QDCOUNT 1, ANCOUNT 1 or 0, no NS/AR.
    const flags = Uint8Array.from([0x81, isA ? 0x80 : 0x84, 0, 1, 0, isA ? 1 : 0, 0, 0, 0, 0]);
    if (!pool.copyback(reply, 2, flags) || (isA && !pool.append(reply, answerA))) {
      pool.freem(reply);
      return fail();
    }
    udp.send(reply, rinfo.port, rinfo.address).then(() => {
      stats.answered++;
    }, () => {
      stats.nobufs++;
    });
  });

  return {
    udp, stats,
    bind: (port = 0, address = "127.0.0.1") => udp.bind(port, address),
    close: () => udp.close(),
  };
}
