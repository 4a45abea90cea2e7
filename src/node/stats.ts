// Counters of the Node adapters (TCP and UDP), and their registration in a
// pool's Prometheus registry, so /metrics shows back-pressure, drops and
// denials next to the pool's own series.

import { Counter, Gauge, type Registry } from "prom-client";
import { MbufError, describeValue } from "../errors.js";
import { checkBool } from "../validate.js";

/** What a TCP server (or a client socket) has seen. */
export interface TcpStats {
  /** Connections accepted (or made). */
  accepted: number;
  /** Connections refused because no socket could be allocated (the pool was exhausted). */
  refused: number;
  /** Connections open now. */
  open: number;
  /** Connections closed (any reason). */
  closed: number;
  /** Connections dropped on the idle timeout. */
  idleDrops: number;
  /** Connections ended by a socket error (keepalive timeouts, resets). */
  errors: number;
  /** Bytes read from the network. */
  bytesIn: number;
  /** Bytes written to the network from chains. */
  bytesOut: number;
  /** Reads from the kernel (each up to the connection's read size). */
  reads: number;
  /** Reads the pool had no buffer for at once: held in JS memory until it had (reading stopped meanwhile). */
  spilledReads: number;
  /** Requests for buffers for a read that the pool denied. */
  denied: number;
  /** Times reading stopped because the receive socket buffer was full. */
  pausedSockbuf: number;
  /** Times reading stopped because the pool had no cluster. */
  pausedPool: number;
  /** Times reading resumed. */
  resumed: number;
  /** Chains the application could not read because no mbuf was free (it retried). */
  readDenied: number;
  /** Times write() asked the writer to wait for "drain" (the send socket buffer was full). */
  writeBlocked: number;
  /** Times autosizing grew a socket buffer (net.inet.tcp.sendbuf_auto, recvbuf_auto). */
  sbGrown: number;
}

/** What a UDP socket has seen. */
export interface UdpStats {
  /** Datagrams received into chains. */
  received: number;
  /** Datagrams dropped because the pool had no buffer (counted, never queued). */
  rcvDropped: number;
  /** Datagrams sent. */
  sent: number;
  /** Sends refused with ENOBUFS. */
  sendNobufs: number;
  /** Sends that failed in the network (the chain was freed all the same). */
  sendErrors: number;
}

/** A zeroed TcpStats. */
export function tcpStats(): TcpStats {
  return {
    accepted: 0, refused: 0, open: 0, closed: 0, idleDrops: 0, errors: 0, bytesIn: 0, bytesOut: 0,
    reads: 0, spilledReads: 0, denied: 0, pausedSockbuf: 0, pausedPool: 0, resumed: 0,
    readDenied: 0, writeBlocked: 0, sbGrown: 0,
  };
}

/** A zeroed UdpStats. */
export function udpStats(): UdpStats {
  return { received: 0, rcvDropped: 0, sent: 0, sendNobufs: 0, sendErrors: 0 };
}

const registered = new WeakMap<Registry, Map<string, { stats: Map<string, Record<string, number>> }>>();

/**
 * Exposes a stats object in `registry` as `mbufpool_node_<kind>_<field>` series labelled
 * `{ name }` (counters end in `_total`; `open` is a gauge). Several adapters of one
 * kind share the series under different names.
 */
/** Checks the `name` and `metrics` options a server or socket registers its counters under. @throws MbufError EINVAL. */
export function checkStatsOptions(o: { name?: unknown; metrics?: unknown }, call: string): void {
  if (o.name !== undefined && typeof o.name !== "string") throw new MbufError("EINVAL", `${call}: name must be a string, got ${describeValue(o.name)}`);
  if (o.metrics !== undefined) checkBool(o.metrics, `${call}: metrics`);
}

export function registerStats(registry: Registry, kind: "tcp" | "udp", name: string, stats: object): void {
  let kinds = registered.get(registry);
  if (!kinds) registered.set(registry, (kinds = new Map()));
  let entry = kinds.get(kind);
  if (!entry) {
    const all = new Map<string, Record<string, number>>();
    entry = { stats: all };
    kinds.set(kind, entry);
    for (const field of Object.keys(stats)) {
      const snake = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      if (field === "open") {
        new Gauge({
          name: `mbufpool_node_${kind}_${snake}`, help: `mbufpool/node ${kind}: ${field}`, labelNames: ["name"],
          registers: [registry],
          collect() { this.reset(); for (const [n, s] of all) this.set({ name: n }, s[field]); },
        });
      } else {
        new Counter({
          name: `mbufpool_node_${kind}_${snake}_total`, help: `mbufpool/node ${kind}: ${field}`, labelNames: ["name"],
          registers: [registry],
          collect() { this.reset(); for (const [n, s] of all) this.inc({ name: n }, s[field]); },
        });
      }
    }
  }
  entry.stats.set(name, stats as Record<string, number>);
}
