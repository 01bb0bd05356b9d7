import { join } from "node:path";
import { z } from "zod";

/** The files of one memory template, all in its folder under `<home>/templates/`. */
export interface TemplateFiles {
  dir: string;
  /** Guest RAM, mapped copy-on-write by every VM restored from the template. */
  ram: string;
  /** Device state (RAM excluded) as the VMM saved it. */
  state: string;
  /** The root disk at the moment of the save; restored VMs get copy-on-write overlays over it. */
  root: string;
  /** An empty disk standing where a workspace disk goes; never mounted in the template. */
  placeholder: string;
  record: string;
}

export function templatesRoot(home: string): string {
  return join(home, "templates");
}

export function templateFiles(dir: string): TemplateFiles {
  return {
    dir,
    ram: join(dir, "ram"),
    state: join(dir, "state"),
    root: join(dir, "root.qcow2"),
    placeholder: join(dir, "workspace.qcow2"),
    record: join(dir, "template.json"),
  };
}

export const TEMPLATE_SCHEMA = 1;

/** template.json: what a template was made from, what it cost, and the digests its use checks. */
export const TemplateRecord = z.object({
  schema: z.literal(TEMPLATE_SCHEMA),
  key: z.string(),
  environment: z.string(),
  vcpu_count: z.number().int().positive(),
  mem_mib: z.number().int().positive(),
  network: z.boolean(),
  driver: z.string(),
  accel: z.enum(["kvm", "tcg"]),
  workspace_disk_bytes: z.number().int().positive(),
  kernel_digest: z.string(),
  rootfs: z.string(),
  /** The root image's path, size and change time when the template was made (key.ts: rootfsStamp). */
  rootfs_stamp: z.string(),
  initramfs: z.string(),
  created_at: z.string(),
  boot_ms: z.number(),
  save_ms: z.number(),
  verify_ms: z.number(),
  ram_bytes: z.number().int(),
  state_bytes: z.number().int(),
  /** sha256 of the device state and the saved root disk, checked before every use. */
  state_sha256: z.string(),
  root_sha256: z.string(),
});
export type TemplateRecord = z.infer<typeof TemplateRecord>;
