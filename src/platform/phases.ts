/** Progress of a long operation, rendered by the CLI as `[scope] phase=NAME key=value…` on stderr. */
export type PhaseReporter = (phase: string, fields?: Record<string, string | number>) => void;

export const silentPhases: PhaseReporter = () => undefined;
