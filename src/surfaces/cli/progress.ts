import type { ProgressReport, ProgressReporter } from "../../platform/phases.js";

const BAR_WIDTH = 28;
const BAR_EVERY_MS = 100;
const LINE_EVERY_MS = 1_000;

/**
 * Transfer progress on stderr: a live bar with bytes, rate and ETA on a terminal, otherwise
 * (and with --json) a `[scope] phase=… done_bytes=… total_bytes=…` line about once a second
 * and at the end.
 */
export function stderrProgress(scope: string, json: boolean): ProgressReporter {
  const live = process.stderr.isTTY === true && !json;
  const started = Date.now();
  let lastAt = 0;
  let lastPhase = "";
  let barOpen = false;
  return (report) => {
    const now = Date.now();
    const finished = report.done_bytes >= report.total_bytes;
    if (report.phase !== lastPhase) {
      if (barOpen) process.stderr.write("\n");
      barOpen = false;
      lastPhase = report.phase;
    } else if (!finished && now - lastAt < (live ? BAR_EVERY_MS : LINE_EVERY_MS)) {
      return;
    }
    lastAt = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    const rate = (report.done_bytes - report.cached_bytes) / seconds;
    if (live) {
      process.stderr.write(`\r[${scope}] ${bar(report, rate)}\x1b[K`);
      barOpen = !finished;
      if (finished) process.stderr.write("\n");
      return;
    }
    const fields = [
      `phase=${report.phase}`,
      `done_bytes=${report.done_bytes}`,
      `total_bytes=${report.total_bytes}`,
      `cached_bytes=${report.cached_bytes}`,
      `rate_mb_s=${(rate / 1e6).toFixed(1)}`,
    ];
    process.stderr.write(`[${scope}] ${fields.join(" ")}\n`);
  };
}

function bar(report: ProgressReport, rate: number): string {
  const fraction = report.total_bytes > 0 ? Math.min(report.done_bytes / report.total_bytes, 1) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const left = report.total_bytes - report.done_bytes;
  const eta = rate > 0 && left > 0 ? `ETA ${Math.ceil(left / rate)}s` : "";
  return [
    report.phase,
    `[${"#".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}]`,
    `${megabytes(report.done_bytes)}/${megabytes(report.total_bytes)} MB`,
    `${(rate / 1e6).toFixed(1)} MB/s`,
    eta,
  ]
    .filter(Boolean)
    .join(" ");
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
