import { randomBytes } from "node:crypto";
import { lstat, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PyroError } from "../errors/index.js";

/** Fails early, before any data is read, when the output cannot be placed at `outputPath`. */
export async function checkOutputPath(outputPath: string, overwrite: boolean): Promise<void> {
  const parent = dirname(outputPath);
  if (parent === outputPath) throw new PyroError("INVALID_ARGUMENT", `Cannot export onto ${outputPath}.`);
  const parentStats = await stat(parent).catch(() => undefined);
  if (parentStats === undefined || !parentStats.isDirectory()) {
    throw new PyroError("FILE_NOT_FOUND", `The output directory ${parent} does not exist.`, {
      hint: "Create the parent directory of the output path first.",
      details: { path: parent },
    });
  }
  if (!overwrite && (await exists(outputPath))) throw outputExists(outputPath);
}

/** A fresh, unused name next to `outputPath` (same directory, so renames stay atomic). */
export function stagingPathFor(outputPath: string, purpose: string): string {
  return join(
    dirname(outputPath),
    `.${basename(outputPath)}.pyro-${purpose}-${randomBytes(6).toString("hex")}`,
  );
}

/**
 * Moves a finished file or directory to `outputPath`. An existing output is refused without
 * `overwrite`; with it, the old one is moved aside, the new one renamed into place, and the old
 * one deleted, so `outputPath` only ever holds a complete old or a complete new output.
 */
export async function placeOutput(staged: string, outputPath: string, overwrite: boolean): Promise<void> {
  if (!(await exists(outputPath))) {
    await rename(staged, outputPath);
    return;
  }
  if (!overwrite) throw outputExists(outputPath);
  const aside = stagingPathFor(outputPath, "old");
  await rename(outputPath, aside);
  try {
    await rename(staged, outputPath);
  } catch (error) {
    await rename(aside, outputPath);
    throw error;
  }
  await rm(aside, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

function outputExists(outputPath: string): PyroError {
  return new PyroError("OUTPUT_EXISTS", `${outputPath} already exists.`, { details: { path: outputPath } });
}
