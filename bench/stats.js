/** Small helpers for benchmark scripts: timing, medians, ratios, a plain report. */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle];
}

export async function timeRuns(count, action) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await action(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export function formatMs(ms) {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`;
}

export function report(title, rows) {
  console.log(`\n${title}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(52)} ${value}`);
}
