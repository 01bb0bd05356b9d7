import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { DRIVERS, DRIVER_NAMES, PLANNED_DRIVERS, driverByName } from "../../src/machine/registry.js";
import { PyroError } from "../../src/errors/index.js";

const SRC = join(import.meta.dirname, "..", "..", "src");
const REGISTRY = join("machine", "registry.ts");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const errorCode = (action: () => unknown): string | undefined => {
  try {
    action();
  } catch (error) {
    return error instanceof PyroError ? error.code : "not a PyroError";
  }
  return undefined;
};

describe("the machine driver registry", () => {
  it("holds drivers that each implement the whole MachineDriver interface", () => {
    expect(DRIVERS.length).toBeGreaterThan(0);
    for (const driver of DRIVERS) {
      expect(driver.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(["guest_serial", "guest_vsock", "host_compat"]).toContain(driver.executionMode);
      for (const method of [driver.probe, driver.report, driver.launch])
        expect(method).toBeTypeOf("function");
      expect(["qcow2-overlay", "directory"]).toContain(driver.disk.kind);
      for (const method of [driver.disk.create, driver.disk.imageFile, driver.disk.flatten])
        expect(method).toBeTypeOf("function");
      const image = driver.disk.imageFile("/vm");
      // A block image lives in the VM's own folder; a folder-backed disk has none.
      if (driver.disk.kind === "directory") expect(image).toBeNull();
      else expect(image?.startsWith("/vm/")).toBe(true);
      expect(["none", "fd", "tap"]).toContain(driver.network.kind);
      if (driver.network.kind === "fd") expect(driver.network.attach).toBeTypeOf("function");
      // QEMU saves and restores memory and snapshots qcow2 disks; the host backend does neither.
      const qemu = driver.name === "qemu";
      expect(driver.capabilities).toEqual({ memorySnapshot: qemu, pause: qemu, diskSnapshot: qemu });
      expect(driverByName(driver.name)).toBe(driver);
    }
  });

  it("gives each backend one unique name and refuses planned and unknown ones with their own codes", () => {
    expect(new Set(DRIVER_NAMES).size).toBe(DRIVER_NAMES.length);
    for (const planned of PLANNED_DRIVERS)
      expect(errorCode(() => driverByName(planned.name))).toBe("BACKEND_UNAVAILABLE");
    expect(errorCode(() => driverByName("bochs"))).toBe("INVALID_ARGUMENT");
  });

  it("is the only file that names a driver or imports a driver's folder", () => {
    const driverFolder = (file: string): string | undefined =>
      DRIVER_NAMES.find((name) => file.startsWith(join("machine", name) + sep));
    const offenders: string[] = [];
    for (const path of sourceFiles(SRC)) {
      const file = relative(SRC, path);
      if (file === REGISTRY) continue;
      const own = driverFolder(file);
      const text = readFileSync(path, "utf8");
      for (const [, specifier] of text.matchAll(/from "(\.[^"]+)"/g)) {
        const reached = driverFolder(relative(SRC, resolve(dirname(path), specifier ?? "")));
        if (reached !== undefined && reached !== own) offenders.push(`${file} imports machine/${reached}/`);
      }
      // A driver's folder speaks its VMM's language (QEMU's `-cpu host`); the --backend choices
      // of the surfaces are user-facing text of the operation specs (api/, surfaces/).
      if (own !== undefined || file.startsWith(`api${sep}`) || file.startsWith(`surfaces${sep}`)) continue;
      for (const name of DRIVER_NAMES) {
        // The agent's HELLO reports its own mode, "guest" or "host": the protocol's word, not a driver's.
        const literal = new RegExp(`(?<!"guest" \\| |"guest", |mode !== )["'\`]${name}["'\`]`);
        if (literal.test(text)) offenders.push(`${file} names "${name}"`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
