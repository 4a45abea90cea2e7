// The host's layering (.dependency-cruiser.cjs): no import cycle in src/, the
// library never imports its tools, mechanisms never import the facade, stats/
// only formats; and `import "mbufpool"` loads neither fast-check nor the fuzzer.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEPCRUISE = fileURLToPath(new URL("../node_modules/dependency-cruiser/bin/dependency-cruise.mjs", import.meta.url));
const CONFIG = fileURLToPath(new URL("../.dependency-cruiser.cjs", import.meta.url));

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, "src", "--config", CONFIG, "--output-type", "err"], { cwd, encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("layering", () => {
  it("src/ keeps every rule", () => {
    const r = cruise(ROOT);
    expect(r.out).toContain("no dependency violations found");
    expect(r.status).toBe(0);
  });

  it("the rules catch a cycle, a facade import, a formatter reading a mechanism and the library importing a tool", () => {
    const r = cruise(fileURLToPath(new URL("./fixtures/layering/", import.meta.url)));
    expect(r.status).not.toBe(0);
    for (const rule of ["no-circular", "mechanisms-not-on-the-facade", "stats-formats-snapshots", "library-not-on-its-tools"]) {
      expect(r.out).toContain(`error ${rule}`);
    }
  });

  it('import "mbufpool" loads neither fast-check nor the fuzzer; "mbufpool/fuzz" does', () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-layering-"));
    const hook = join(dir, "hook.mjs");
    const log = join(dir, "loaded.log");
    // The hook runs on the loader's own thread, whose process.stderr is an
    // asynchronous pipe to the main thread: a line written there can be lost
    // when the process exits. A synchronous append to a file cannot.
    writeFileSync(hook, `import { appendFileSync } from "node:fs";
export async function resolve(s, c, n) { const r = await n(s, c);
  if (/fast-check|\\/fuzz\\//.test(r.url)) appendFileSync(${JSON.stringify(log)}, "LOADED " + r.url + "\\n");
  return r; }
`);
    const run = (spec: string): string => {
      writeFileSync(log, "");
      const r = spawnSync(process.execPath, [
        "--import", `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hook).href)});`,
        "--input-type=module", "-e", `await import(${JSON.stringify(spec)});`,
      ], { cwd: ROOT, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(log, "utf8");
    };
    expect(run("mbufpool")).not.toContain("LOADED");
    expect(run("mbufpool/node")).not.toContain("LOADED");
    const fuzz = run("mbufpool/fuzz");
    expect(fuzz).toContain("fast-check");
    expect(fuzz).toContain("/fuzz/");
    rmSync(dir, { recursive: true, force: true });
  });
});
