// TCP over pool buffers: net sockets that read straight into clusters and
// write from chains. One mechanism a file: the options (tcp-options.ts), the
// receive path (tcp-receive.ts), the send path and its write(2) contract
// (tcp-send.ts), the application side and drops (tcp-socket.ts), the server
// (tcp-server.ts) and the client (tcp-connect.ts).

export type { TcpOptions, TcpServerOptions, TcpConnectOptions, ListenOptions } from "./tcp-options.js";
export { BrokenPipeError } from "./tcp-send.js";
export { MbufSocket, holdersOf } from "./tcp-socket.js";
export { MbufServer, createServer, takeHandle, type ConnectionListener } from "./tcp-server.js";
export { connect } from "./tcp-connect.js";
