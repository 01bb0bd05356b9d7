import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import type { SandboxStore } from "../store.js";
import { workspaceFiles } from "./record.js";

/** One command of a workspace's history (history.jsonl, one JSON object a line). */
export interface HistoryEntry {
  sequence: number;
  command: string | string[];
  cwd: string;
  started_at: string;
  exit_code: number;
  timed_out: boolean;
  duration_ms: number;
}

/** Appends one entry; the caller holds the workspace lock. */
export function appendHistory(store: SandboxStore, id: string, entry: HistoryEntry): void {
  appendFileSync(workspaceFiles(store, id).history, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

export function readHistory(store: SandboxStore, id: string): HistoryEntry[] {
  const path = workspaceFiles(store, id).history;
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as HistoryEntry];
      } catch {
        return []; // a torn last line after a crash is dropped, not fatal
      }
    })
    .sort((a, b) => a.sequence - b.sequence);
}

export function clearHistory(store: SandboxStore, id: string): void {
  rmSync(workspaceFiles(store, id).history, { force: true });
}
