// The documentation's examples, run as a user runs them, and its links.
//
// Every ```js or ```ts block in README.md and docs/*.md carries a marker on the line before it:
//   <!-- run -->                 run here, in a child process of its own (node --input-type=module -e),
//                                from the checkout so that "mbufpool" resolves to it; it must exit 0
//   <!-- run: node-examples -->  a server: test/node-examples.test.ts starts it and drives it
//   <!-- run: echo-workers -->   an excerpt of examples/echo-workers.mjs or echo-worker.mjs, which
//                                node-examples.test.ts runs (and checks the excerpt is theirs)
// A block without a marker fails the test, so no example goes unrun. Shell blocks and output
// blocks (```sh, plain ```) are not code and are not run.
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runModule } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const files = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const text = (file: string): string => readFileSync(path.join(root, file), "utf8");

interface Block { file: string; line: number; lang: string; marker: string | null; code: string }

/** The fenced code blocks of a Markdown text, with the HTML comment on the line before each. */
function blocks(file: string): Block[] {
  const lines = text(file).split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const marker = /^<!-- (run(?:: [\w-]+)?) -->$/.exec(lines[i - 1] ?? "")?.[1] ?? null;
    out.push({ file, line: i + 1, lang: open[1], marker, code: lines.slice(i + 1, end).join("\n") + "\n" });
    i = end;
  }
  return out;
}

const all = files.flatMap(blocks);
const code = all.filter((b) => b.lang === "js" || b.lang === "ts");


/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of text(file).split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    const slug = h[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The inline links [text](target) of a Markdown text, outside code blocks and code spans. */
function links(file: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  let fenced = false;
  text(file).split("\n").forEach((line, i) => {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced) return;
    for (const m of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** What the npm package ships (package.json `files`). */
const shipped: string[] = JSON.parse(text("package.json")).files;
const isShipped = (rel: string): boolean => shipped.some((f) => rel === f || rel.startsWith(`${f.replace(/\/\*.*$/, "")}/`));

describe("documented examples, run as written", () => {
  it("every js/ts block is marked to be run", () => {
    const unmarked = code.filter((b) => b.marker === null).map((b) => `${b.file}:${b.line}`);
    expect(unmarked).toEqual([]);
    expect(code.filter((b) => b.marker === "run").length).toBeGreaterThan(10);
    // The one server in the README is node-examples.test.ts's to run.
    expect(code.filter((b) => b.marker === "run: node-examples").map((b) => b.file)).toEqual(["README.md"]);
  });

  for (const b of code.filter((x) => x.marker === "run")) {
    it(`${b.file}:${b.line}`, async () => {
      const r = await runModule(b.code);
      expect(r.code, r.out).toBe(0);
    }, 60_000);
  }
});

describe("documentation links", () => {
  it("every relative link resolves to a file of the repository, and every anchor to a heading", () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const { target, line } of links(file)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [p, anchor] = target.split("#");
        const resolved = p === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), p));
        const abs = path.join(root, resolved);
        if (resolved.startsWith("..") || !existsSync(abs)) {
          bad.push(`${file}:${line}: ${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && (!resolved.endsWith(".md") || !anchors(resolved).has(anchor))) {
          bad.push(`${file}:${line}: ${target}: no heading #${anchor} in ${resolved}`);
        }
        if (!isShipped(resolved) && !/in the repository/.test(text(file).split("\n")[line - 1])) {
          bad.push(`${file}:${line}: ${target}: not in the npm package; say "in the repository" on that line`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("the README links only into what the package ships", () => {
    const outside = links("README.md").map((l) => l.target.split("#")[0]).filter((t) => t !== "" && !/^[a-z]+:/i.test(t) && !isShipped(t));
    expect(outside).toEqual([]);
  });

  it("names the incidents, not their source numbers, outside the glossary", () => {
    for (const file of files.filter((f) => f !== "docs/incidents.md")) {
      expect(text(file), file).not.toMatch(/seeds? 00\d/);
    }
    expect(files.filter((f) => /REFERENCE\.md/.test(text(f)))).toEqual([]);
    expect(files.filter((f) => /\/work\/|\/home\//.test(text(f)))).toEqual([]);
  });
});
