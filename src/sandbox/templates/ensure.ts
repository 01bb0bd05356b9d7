import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { sha256File } from "../../platform/file-digest.js";
import { toPyroError } from "../../errors/index.js";
import { writeJsonAtomic } from "../../platform/atomic-file.js";
import { withFileLock } from "../../platform/file-lock.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { templateIdentity, type TemplateShape } from "./key.js";
import { makeTemplate, type TemplateMachine, type WorkspaceDiskImages } from "./make.js";
import { TemplateRecord, templateFiles, templatesRoot, type TemplateFiles } from "./files.js";

/** A template to restore from, or why the sandbox boots cold (never an error). */
export type TemplateChoice =
  | { kind: "template"; name: string; files: TemplateFiles; record: TemplateRecord }
  | { kind: "cold"; reason: string };

/** After a failed make, sandboxes of that shape boot cold for this long before the next attempt. */
const RETRY_AFTER_MS = 10 * 60_000;
/** Making one boots a VM: other processes needing the same template wait for it. */
const MAKE_LOCK_WAIT_MS = 180_000;

const FailureNote = z.object({ at: z.string(), code: z.string(), message: z.string() });
type FailureNote = z.infer<typeof FailureNote>;

const failurePath = (root: string, name: string): string => join(root, `${name}.failed.json`);

/** The template's record if its files are all there and its device state is the one recorded. */
export async function readUsableTemplate(files: TemplateFiles): Promise<TemplateRecord | null> {
  if (!existsSync(files.record)) return null;
  let record: TemplateRecord;
  try {
    const parsed = TemplateRecord.safeParse(JSON.parse(readFileSync(files.record, "utf8")));
    if (!parsed.success) return null;
    record = parsed.data;
  } catch {
    return null;
  }
  for (const file of [files.ram, files.root, files.placeholder]) if (!existsSync(file)) return null;
  if (statSync(files.ram).size !== record.ram_bytes) return null;
  if (!existsSync(files.state) || (await sha256File(files.state)) !== record.state_sha256) return null;
  return record;
}

function recentFailure(root: string, name: string): FailureNote | null {
  try {
    const note = FailureNote.safeParse(JSON.parse(readFileSync(failurePath(root, name), "utf8")));
    if (!note.success) return null;
    return Date.now() - Date.parse(note.data.at) < RETRY_AFTER_MS ? note.data : null;
  } catch {
    return null;
  }
}

/**
 * The template for a VM of `shape` on `machine`: the existing one, or one made now (once; other
 * processes wait for the maker). A template that cannot be made is reported, and the sandbox
 * boots cold.
 */
export async function templateFor(
  home: string,
  shape: TemplateShape,
  machine: TemplateMachine,
  disks: WorkspaceDiskImages,
  onPhase: PhaseReporter = silentPhases,
): Promise<TemplateChoice> {
  const root = templatesRoot(home);
  const identity = templateIdentity(shape, {
    driver: machine.driver.name,
    accel: machine.accel,
    boot: machine.boot,
    workspaceDiskBytes: disks.bytes,
  });
  const files = templateFiles(join(root, identity.dirName));
  const ready = await readUsableTemplate(files);
  if (ready !== null) return { kind: "template", name: identity.dirName, files, record: ready };
  const failed = recentFailure(root, identity.dirName);
  if (failed !== null)
    return { kind: "cold", reason: `making the memory template failed: ${failed.message}` };
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return withFileLock(
    join(root, `${identity.dirName}.lock`),
    async () => {
      const made = await readUsableTemplate(files);
      if (made !== null) return { kind: "template", name: identity.dirName, files, record: made };
      onPhase("template", { environment: shape.environment, template: identity.dirName });
      try {
        const record = await makeTemplate(root, identity, shape, machine, disks);
        rmSync(failurePath(root, identity.dirName), { force: true });
        return { kind: "template", name: identity.dirName, files, record };
      } catch (error) {
        const failure = toPyroError(error);
        const note: FailureNote = {
          at: new Date().toISOString(),
          code: failure.code,
          message: failure.message,
        };
        writeJsonAtomic(failurePath(root, identity.dirName), note);
        return { kind: "cold", reason: `making the memory template failed: ${failure.message}` };
      }
    },
    MAKE_LOCK_WAIT_MS,
  );
}
