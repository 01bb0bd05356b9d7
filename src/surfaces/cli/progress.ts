import type { ProgressReport, ProgressReporter } from "../../platform/phases.js";

const BAR_WIDTH = 28;
const BAR_EVERY_MS = 100;
const LINE_EVERY_MS = 1_000;

/** A live bar is on the terminal's last line, not yet ended by a newline. */
let barOpen = false;

/** Ends a live bar's line, so whatever is written to stderr next starts on a line of its own. */
export function endProgressLine(): void {
  if (!barOpen) return;
  barOpen = false;
  process.stderr.write("\n");
}

/**
 * Transfer progress on stderr: a live bar with bytes, rate and ETA on a terminal, otherwise
 * (and with --json) a `[scope] phase=… done_bytes=… total_bytes=…` line about once a second
 * and at the end. A report repeating the last one shown is dropped.
 */
export function stderrProgress(scope: string, json: boolean): ProgressReporter {
  const live = process.stderr.isTTY === true && !json;
  let phaseStarted = Date.now();
  let lastAt = 0;
  let last: ProgressReport | null = null;
  return (report) => {
    const now = Date.now();
    const finished = report.total_bytes > 0 && report.done_bytes >= report.total_bytes;
    if (last !== null && report.phase === last.phase) {
      if (report.done_bytes === last.done_bytes && report.total_bytes === last.total_bytes) return;
      if (!finished && now - lastAt < (live ? BAR_EVERY_MS : LINE_EVERY_MS)) return;
    } else {
      endProgressLine();
      phaseStarted = now;
    }
    last = { ...report };
    lastAt = now;
    const elapsedSeconds = (now - phaseStarted) / 1000;
    if (live) {
      process.stderr.write(`\r[${scope}] ${progressBar(report, elapsedSeconds)}\x1b[K`);
      barOpen = true;
      if (finished) endProgressLine();
      return;
    }
    process.stderr.write(`[${scope}] ${progressFields(report, elapsedSeconds)}\n`);
  };
}

/** Bytes per second actually transferred: what was in a cache already does not count. */
function rateOf(report: ProgressReport, elapsedSeconds: number): number {
  return Math.max(report.done_bytes - report.cached_bytes, 0) / Math.max(elapsedSeconds, 0.001);
}

/** The line shown off a terminal: `phase=… done_bytes=… total_bytes=… cached_bytes=… rate_mb_s=…`. */
export function progressFields(report: ProgressReport, elapsedSeconds: number): string {
  return [
    `phase=${report.phase}`,
    `done_bytes=${report.done_bytes}`,
    `total_bytes=${report.total_bytes}`,
    `cached_bytes=${report.cached_bytes}`,
    `rate_mb_s=${(rateOf(report, elapsedSeconds) / 1e6).toFixed(1)}`,
  ].join(" ");
}

/**
 * The bar shown on a terminal: `fetch [#####     ] 12.0/48.0 MB 6.0 MB/s ETA 6s`. Without a
 * total (0) there is nothing to fill or to count down to: the bytes so far and the rate only.
 */
export function progressBar(report: ProgressReport, elapsedSeconds: number): string {
  const rate = rateOf(report, elapsedSeconds);
  const speed = `${megabytes(rate)} MB/s`;
  if (report.total_bytes <= 0) return `${report.phase} ${megabytes(report.done_bytes)} MB ${speed}`;
  const fraction = Math.min(report.done_bytes / report.total_bytes, 1);
  const filled = Math.round(fraction * BAR_WIDTH);
  const left = report.total_bytes - report.done_bytes;
  return [
    report.phase,
    `[${"#".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}]`,
    `${megabytes(report.done_bytes)}/${megabytes(report.total_bytes)} MB`,
    speed,
    rate > 0 && left > 0 ? `ETA ${formatSeconds(Math.ceil(left / rate))}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
