// Copies uPlot's browser build into dist/ so the HTML report needs no
// runtime dependency: the report inlines these two files into its page, and
// a package that installs mbufpool never installs uplot. uPlot's licence
// travels with its files.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const from = dirname(require.resolve("uplot/package.json"));
const to = fileURLToPath(new URL("../dist/sim/vendor/uplot/", import.meta.url));
mkdirSync(to, { recursive: true });
for (const f of ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"]) {
  copyFileSync(join(from, f), join(to, f.replace(/^dist\//, "")));
}
