// The host's layering, checked by `npm run lint:deps` and by the test suite
// (test/layering.test.ts). Type-only imports count: a cycle through types is
// still a cycle a reader has to untangle.
//
//   core/                the WebAssembly core as the host sees it: imports nothing of the host
//   stats/               formats snapshots: constants, errors, core/layout and itself only
//   mechanisms           pool/, waiting/, leak/, sampling/, tunables/, netm, packet-zone:
//                        built on pool/context.ts (PoolCore), never on the Pool facade
//   the library          everything above plus pool.ts and index.ts: never imports the
//                        tools built on it (sim/, node/, fuzz/, bench/, cli/) nor fast-check
/** A rule no import may break: every rule here is an error. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from, to });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid("no-circular",
      "No import cycle anywhere in src/.",
      { path: "^src/" },
      { circular: true }),
    forbid("library-not-on-its-tools",
      "The library never imports the simulator, the Node adapter, the fuzzer, the benchmark or the CLI.",
      { path: "^src/", pathNot: "^src/(sim|node|fuzz|bench|cli)/" },
      { path: "^src/(sim|node|fuzz|bench|cli)/" }),
    forbid("workloads-only-for-tools",
      "Workloads drive a pool; the pool and its mechanisms never import them.",
      { path: "^src/", pathNot: "^src/((sim|node|fuzz|bench|cli|workloads)/|index\\.ts$)" },
      { path: "^src/workloads/" }),
    forbid("mechanisms-not-on-the-facade",
      "Mechanisms depend on the narrow PoolCore interface, not on the Pool facade that imports them.",
      { path: "^src/(pool|waiting|leak|sampling|tunables|stats|core|proto)/|^src/(netm|packet-zone|clock|errors|constants|validate)\\.ts$" },
      { path: "^src/pool\\.ts$" }),
    forbid("stats-formats-snapshots",
      "stats/ formats snapshots: it never imports the pool or a mechanism.",
      { path: "^src/stats/" },
      { path: "^src/", pathNot: "^src/(stats/|constants\\.ts$|errors\\.ts$|core/layout\\.ts$)" }),
    forbid("core-is-the-bottom",
      "core/ knows the WebAssembly module only.",
      { path: "^src/core/" },
      { path: "^src/", pathNot: "^src/core/" }),
    forbid("no-dev-dependencies-at-run-time",
      "What ships imports runtime dependencies, and optional peers (fast-check, benchmark) only from the tools that need them.",
      { path: "^src/" },
      { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only", "npm-peer"] }),
    forbid("optional-peers-only-in-their-tools",
      "fast-check is the fuzzer's and benchmark.js the benchmark's: nothing else may load them.",
      { path: "^src/", pathNot: "^src/(fuzz|bench)/" },
      { path: "node_modules/(fast-check|benchmark)/", dependencyTypesNot: ["type-only"] }),
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
  },
};
