export const FIRST_RUN_PAGE: string;
/** Runs the first-run commands for real (boots guests) and returns docs/first-run.md's text. */
export function recordFirstRun(): Promise<string>;
/** The lines that must not change between runs: sections, commands and exit codes. */
export function firstRunStructure(page: string): string[];
