import type { MachineDriver } from "../../machine/types.js";
import type { WorkspaceDiskImages } from "./make.js";

/**
 * Empty workspace disks of the store's size in the driver's format: the stand-in a template is
 * saved with, and the second disk of a restored VM that has no workspace. Null for a driver
 * without workspace disks.
 */
export function workspaceDiskImages(
  driver: MachineDriver,
  store: { home: string; workspaceDiskBytes: number },
): WorkspaceDiskImages | null {
  const format = driver.workspaceImage;
  if (format === null) return null;
  const cacheDir = store.home;
  return {
    bytes: store.workspaceDiskBytes,
    blank: (file) =>
      format.create(file, { virtualBytes: store.workspaceDiskBytes, seedTree: null, cacheDir }),
  };
}
