import { existsSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import type { MachineDriver } from "../../machine/types.js";
import { templateFiles, templatesRoot, type TemplateFiles } from "../templates/files.js";
import { workspaceDiskImages } from "../templates/disks.js";
import type { SandboxStore } from "../store.js";

/** The files of the template a sandbox was made from; STATE_CORRUPT when they are gone. */
export function templateOf(store: SandboxStore, name: string): TemplateFiles {
  const files = templateFiles(join(templatesRoot(store.home), name));
  if (!existsSync(files.root))
    throw new PyroError(
      "STATE_CORRUPT",
      `memory template ${name} is gone, and this sandbox's disk is layered over it`,
      {
        hint: "Delete the sandbox and create it again; `pyro env prune` keeps templates in use.",
      },
    );
  return files;
}

/** A VM's empty second disk (it has no workspace): the template's guest was saved with one. */
export const placeholderDisk = (machineDir: string): string => join(machineDir, "workspace.qcow2");

/** Root disk over the template's saved one, and for a VM without a workspace an empty second disk. */
export async function layerOverTemplate(
  store: SandboxStore,
  driver: MachineDriver,
  machineDir: string,
  template: string,
  withPlaceholder: boolean,
): Promise<void> {
  const files = templateOf(store, template);
  await driver.disk.create(machineDir, { path: files.root, format: "qcow2" });
  if (!withPlaceholder) return;
  const disks = workspaceDiskImages(driver, store);
  if (disks === null) throw new PyroError("INTERNAL", `${driver.name} has no workspace disks`);
  await disks.blank(placeholderDisk(machineDir));
}
