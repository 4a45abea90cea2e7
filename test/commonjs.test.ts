// A CommonJS project uses the package as a user would: require() of the main
// entry and of every subpath works at run time (Node's require of ES modules),
// and a .cts file type-checks against the shipped declarations, compiles to
// require() calls and runs.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSC = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));

/** A CommonJS project with mbufpool installed (linked), removed after `fn`. */
function project(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "mbufpool-cjs-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "mbufpool"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user", version: "1.0.0", type: "commonjs" }));
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const run = (dir: string, file: string): string => {
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: "utf8" });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  return r.stdout;
};

describe("CommonJS", () => {
  it("require() of the package and of its subpaths", () => {
    project((dir) => {
      writeFileSync(join(dir, "main.js"), `
const { Pool, MT, M_NOWAIT } = require("mbufpool");
const node = require("mbufpool/node");
const fuzz = require("mbufpool/fuzz");
const pool = Pool.create();
const m = pool.getcl(M_NOWAIT, MT.DATA);
pool.append(m, Buffer.from("hello"));
console.log(pool.length(m), typeof node.createServer, typeof fuzz.replay);
pool.freem(m);
console.log(pool.audit().message);
pool.close();
`);
      expect(run(dir, "main.js")).toBe("5 function function\nclean\n");
    });
  });

  it("a .cts file type-checks, compiles to require() and runs", () => {
    project((dir) => {
      writeFileSync(join(dir, "main.cts"), `
import { Pool, type PoolStats } from "mbufpool";
import { createServer } from "mbufpool/node";
const pool: Pool = Pool.create();
const stats: PoolStats = pool.stats();
console.log(stats.mbufs.current, typeof createServer);
pool.close();
`);
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
        compilerOptions: { module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: true, types: [], outDir: "out" },
        files: ["main.cts"],
      }));
      const tsc = spawnSync(process.execPath, [TSC, "-p", "."], { cwd: dir, encoding: "utf8" });
      expect(tsc.stdout + tsc.stderr).toBe("");
      expect(tsc.status).toBe(0);
      expect(run(dir, "out/main.cjs")).toBe("0 function\n");
    });
  });
});
