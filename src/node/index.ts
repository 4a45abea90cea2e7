// mbufpool/node: embedding a pool in Node services. TCP sockets that read
// into clusters with back-pressure, a TCP service on worker threads over one
// shared pool, a UDP adapter with ENOBUFS, a DNS-style
// responder, and metrics over HTTP.

export {
  createServer, connect, holdersOf, MbufServer, MbufSocket, BrokenPipeError,
  type TcpOptions, type TcpServerOptions, type TcpConnectOptions, type ListenOptions, type ConnectionListener,
} from "./tcp.js";
export {
  startWorkers, joinWorkers, ownerRange, WorkerService, WORKERS_MAX, type StartWorkersOptions, type WorkerMember,
} from "./workers.js";
export { reusePortSupported } from "./tcp-options.js";
export { createUdpSocket, MbufUdpSocket, NoBufferSpaceError, type UdpOptions } from "./udp.js";
export {
  createDnsResponder, parseQuery, buildQuery, type DnsResponder, type DnsResponderOptions, type DnsStats, type DnsParse,
} from "./dns.js";
export { serveMetrics, handleMetrics, type MetricsServer, type MetricsServerOptions, type OperatorContext } from "./metrics-http.js";
export { tcpStats, udpStats, registerStats, type TcpStats, type UdpStats } from "./stats.js";
