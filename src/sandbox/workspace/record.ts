import { PyroError } from "../../errors/index.js";
import { isSandboxId } from "../record-parse.js";
import type { SandboxRecord, WorkspaceFacet } from "../record.js";
import type { SandboxFiles, SandboxStore } from "../store.js";

/** A sandbox that is a workspace: its record with the workspace facet present. */
export type WorkspaceRecord = SandboxRecord & { workspace: WorkspaceFacet };

/** The files of one workspace's folder. */
export const workspaceFiles = (store: SandboxStore, id: string): SandboxFiles => store.files(id);

export const isWorkspaceId = isSandboxId;

const notFound = (id: string): PyroError =>
  new PyroError("WORKSPACE_NOT_FOUND", `no workspace with id "${id}"`);

/** The record of workspace `id`; a plain VM's id is no workspace's. */
export function readWorkspaceRecord(store: SandboxStore, id: string): WorkspaceRecord {
  if (!isWorkspaceId(id)) throw notFound(id);
  const record = store.read(id);
  if (record === null || record.workspace === null) throw notFound(id);
  return { ...record, workspace: record.workspace };
}

/** Writes the record back; the caller holds the sandbox's lock. */
export function writeWorkspaceRecord(store: SandboxStore, record: WorkspaceRecord): void {
  store.save(record);
}
