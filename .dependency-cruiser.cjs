// The host's layering, checked by `npm run lint:deps` and by the test suite
// (test/layering.test.ts). Type-only imports count: a cycle through types is
// still a cycle a reader has to untangle.
//
//   core/                the WebAssembly core as the host sees it: imports nothing of the host
//   stats/               formats snapshots: constants, errors, core/layout and itself only
//   mechanisms           pool/, waiting/, leak/, sampling/, tunables/, netm, packet-zone:
//                        built on pool/context.ts (PoolCore), never on the Pool facade
//   the library          everything above plus pool.ts and index.ts: never imports the
//                        tools built on it (sim/, node/, fuzz/, cli/) nor fast-check
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycle anywhere in src/.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "library-not-on-its-tools",
      comment: "The library never imports the simulator, the Node adapter, the fuzzer or the CLI.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(sim|node|fuzz|cli)/" },
      to: { path: "^src/(sim|node|fuzz|cli)/" },
    },
    {
      name: "workloads-only-for-tools",
      comment: "Workloads drive a pool; the pool and its mechanisms never import them.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/((sim|node|fuzz|cli|workloads)/|index\\.ts$)" },
      to: { path: "^src/workloads/" },
    },
    {
      name: "mechanisms-not-on-the-facade",
      comment: "Mechanisms depend on the narrow PoolCore interface, not on the Pool facade that imports them.",
      severity: "error",
      from: { path: "^src/(pool|waiting|leak|sampling|tunables|stats|core|proto)/|^src/(netm|packet-zone|clock|errors|constants|validate)\\.ts$" },
      to: { path: "^src/pool\\.ts$" },
    },
    {
      name: "stats-formats-snapshots",
      comment: "stats/ formats snapshots: it never imports the pool or a mechanism.",
      severity: "error",
      from: { path: "^src/stats/" },
      to: { path: "^src/", pathNot: "^src/(stats/|constants\\.ts$|errors\\.ts$|core/layout\\.ts$)" },
    },
    {
      name: "core-is-the-bottom",
      comment: "core/ knows the WebAssembly module only.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" },
    },
    {
      name: "no-test-harness-in-the-library",
      comment: "import \"mbufpool\" must not load fast-check: the fuzzer is the mbufpool/fuzz subpath.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(fuzz|cli)/" },
      to: { path: "node_modules/fast-check" },
    },
    {
      name: "no-dev-dependencies-at-run-time",
      comment: "What ships may import runtime dependencies only.",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
  },
};
