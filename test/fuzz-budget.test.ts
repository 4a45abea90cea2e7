// The fuzzer's time budget holds while it shrinks a failure: the unshrunk
// trace is on disk the moment the failure is found, shrinking stops when the
// budget runs out, and whatever trace is on disk then replays the failure.
// Each run is a process of its own (test/fixtures/fuzz/timed-run.ts) on a pool
// with a seeded bug and cases of 2000 operations, whose full shrinking takes
// far longer than the budget.
import { describe, it, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { replay } from "mbufpool/fuzz";
import { MISBEHAVING } from "./broken.js";
import { BUILD } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/fuzz/timed-run.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUG = "append losing a byte";
const childArgs = (budgetMs: number, traceFile: string): string[] => ["--import", "tsx", CHILD, BUG, String(budgetMs), traceFile];

/**
 * The trace replays the failure: the broken pool diverges at its last line, the one the header
 * names. (A long trace is not held to the real pool: the results the model observes rather than
 * predicts were recorded from the broken pool, whose chains differ by then.)
 */
function expectReplayable(text: string): void {
  const r = replay(text, { build: BUILD, factory: MISBEHAVING[BUG] });
  expect(r.ok).toBe(false);
  expect(r.divergence!.line).toBe(text.trimEnd().split("\n").length);
  const op = /^# diverged: operation \d+: (\w+)/m.exec(text)?.[1];
  expect(r.divergence!.op).toBe(op);
}

describe("the fuzzer's time budget", () => {
  it("holds while shrinking: the run ends within budget + slack with a replayable, partly shrunk trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-budget-"));
    try {
      const traceFile = join(dir, "failure.jsonl"), budget = 2000;
      const r = spawnSync(process.execPath, childArgs(budget, traceFile), { cwd: ROOT, encoding: "utf8", env: { ...process.env, MBUFPOOL_BUILD: BUILD } });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { ms: number; failures: number; shrunk: boolean; shrinks: number; traceOps: number };
      // Slack: the case running when the budget ran out, then re-running and replaying the trace once each.
      expect(out.ms).toBeLessThan(budget + 2000);
      expect(out.failures).toBe(1);
      expect(out.shrunk).toBe(false);
      const text = readFileSync(traceFile, "utf8");
      expect(text).toMatch(/^# seed 11, fast-check path [\d:]+, build \w+, partly shrunk: \d+ shrinks before the time budget ran out$/m);
      expect(text.trimEnd().split("\n").length - 4 - 1).toBe(out.traceOps); // 4 comment lines, create
      expectReplayable(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves the trace on disk from the moment the failure is found (a run killed while shrinking loses nothing)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-budget-"));
    const traceFile = join(dir, "failure.jsonl");
    const child = spawn(process.execPath, childArgs(120_000, traceFile), { cwd: ROOT, stdio: "ignore", env: { ...process.env, MBUFPOOL_BUILD: BUILD } });
    try {
      const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
      const deadline = Date.now() + 30_000;
      while (!existsSync(traceFile) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(existsSync(traceFile)).toBe(true);
      await new Promise((res) => setTimeout(res, 300)); // well into shrinking
      expect(child.exitCode).toBe(null);
      child.kill("SIGKILL");
      await exited;
      const text = readFileSync(traceFile, "utf8");
      expect(text).toMatch(/^# seed 11, build \w+, (unshrunk|partly shrunk \(\d+ shrinks so far\)): shrinking it now$/m);
      expectReplayable(text);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
