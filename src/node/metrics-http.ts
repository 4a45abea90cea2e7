// Metrics over HTTP for a running service: GET /metrics is the Prometheus
// text exposition of the pool's own registry (prom-client; the TCP and UDP
// adapters register their counters there too), GET /netstat is `netstat -m`
// in any dialect (?format=freebsd|freebsd4|aix|rtems|json). Bound to the
// loopback interface unless told otherwise: these are an operator's pages.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt } from "../errors.js";

/** Options of serveMetrics. */
export interface MetricsServerOptions {
  /** Port (0: any free port; the default). */
  port?: number;
  /** Address to bind ("127.0.0.1"). */
  host?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly server: http.Server;
  /** The base URL, e.g. http://127.0.0.1:9100. */
  readonly url: string;
  close(): Promise<void>;
}

/** Answers one request: /metrics, /netstat[?format=], or 404. */
export async function handleMetrics(pool: Pool, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const send = (code: number, type: string, body: string): void => {
    res.writeHead(code, { "content-type": type });
    res.end(body);
  };
  if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "GET only\n");
  try {
    if (url.pathname === "/metrics") {
      return send(200, pool.metricsRegistry.contentType, await pool.metrics());
    }
    if (url.pathname === "/netstat") {
      const format = url.searchParams.get("format") ?? undefined;
      const text = pool.netstat(format === undefined ? {} : { format });
      return send(200, format === "json" ? "application/json" : "text/plain; charset=utf-8", text.endsWith("\n") ? text : `${text}\n`);
    }
    return send(404, "text/plain", "not found: try /metrics or /netstat?format=\n");
  } catch (e) {
    const bad = e instanceof MbufError || (e instanceof Error && /format/i.test(e.message));
    return send(bad ? 400 : 500, "text/plain", `${(e as Error).message}\n`);
  }
}

/**
 * Serves /metrics and /netstat for `pool` over HTTP (loopback by default).
 * @throws MbufError EINVAL for a bad port.
 */
export function serveMetrics(pool: Pool, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const port = checkInt(options.port ?? 0, "port", 0, 65535);
  const host = options.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => void handleMetrics(pool, req, res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      const h = a.family === "IPv6" ? `[${a.address}]` : a.address;
      resolve({
        server, url: `http://${h}:${a.port}`,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
