// Terminal charts of usage over time, drawn by asciichart.

import asciichart from "asciichart";
import type { UsageSample } from "./sample.js";

/** Options of usageChart. */
export interface ChartOptions {
  /** Rows of the plot; 12 by default. */
  height?: number;
  /** Most columns of data; longer series are averaged down. 72 by default. */
  width?: number;
  /** Draw with ANSI colours (mbufs blue, clusters green). */
  color?: boolean;
}

/** `values` averaged down to at most `width` points. */
export function downsample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const a = Math.floor((i * values.length) / width), b = Math.floor(((i + 1) * values.length) / width);
    let sum = 0;
    for (let j = a; j < b; j++) sum += values[j];
    out.push(sum / (b - a));
  }
  return out;
}

/** One titled chart of a series. */
function chartOf(title: string, values: number[], height: number, color?: string): string {
  const plot = asciichart.plot(values, {
    height,
    format: (x: number) => Math.round(x).toString().padStart(8),
    ...(color ? { colors: [color] } : {}),
  });
  return `${title}\n${plot}\n`;
}

/** Charts of mbufs and of clusters in use over time, one under the other. */
export function usageChart(samples: readonly UsageSample[], options: ChartOptions = {}): string {
  if (samples.length === 0) return "(no samples)\n";
  const width = options.width ?? 72, height = options.height ?? 12;
  const t0 = samples[0].t, t1 = samples[samples.length - 1].t;
  const span = `${samples.length} samples over ${((t1 - t0) / 1000).toFixed(1)} s`;
  return chartOf(`mbufs in use (${span})`, downsample(samples.map((s) => s.mbufsInUse), width), height,
    options.color ? asciichart.blue : undefined) +
    chartOf("clusters in use", downsample(samples.map((s) => s.clustersInUse), width), height,
      options.color ? asciichart.green : undefined);
}
