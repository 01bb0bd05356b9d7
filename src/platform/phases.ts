/** Progress of a long operation, rendered by the CLI as `[scope] phase=NAME key=value…` on stderr. */
export type PhaseReporter = (phase: string, fields?: Record<string, string | number>) => void;

export const silentPhases: PhaseReporter = () => undefined;

/** How far a transfer has got: rendered as a live bar on a terminal, as phase lines otherwise. */
export interface ProgressReport {
  phase: string;
  done_bytes: number;
  total_bytes: number;
  /** Bytes that needed no transfer (already in the cache or the registry). */
  cached_bytes: number;
}

export type ProgressReporter = (report: ProgressReport) => void;
