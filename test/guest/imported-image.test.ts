import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importImage } from "../../src/environments/import/index.js";
import type { InstalledEnvironment } from "../../src/environments/installed.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { buildBusyboxImage, sharedKernelDonor } from "../helpers/oci-images.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

// An image with nothing but busybox, imported from an OCI layout, boots with the donor's kernel.
describe("an imported busybox-only image in a real microVM (SDK)", () => {
  let work: string;
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let donor: InstalledEnvironment;
  const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;

  beforeAll(async () => {
    donor = sharedKernelDonor();
    work = await mkdtemp(join(tmpdir(), "pyro-import-guest-"));
    process.env.PYRO_ENVIRONMENT_CACHE_DIR = join(work, "cache");
    buildBusyboxImage(work, join(work, "layout"));
    // The kernel comes from the shared cache's entry, named the way a CLI user would name it.
    process.env.PYRO_IMPORT_KERNEL_DIR = donor.dir;
    try {
      await importImage({ image: `oci:${join(work, "layout")}:app`, name: "busybox:guest" });
    } finally {
      delete process.env.PYRO_IMPORT_KERNEL_DIR;
    }
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
  }, 120_000);

  afterAll(async () => {
    home.cleanup();
    if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
    await rm(work, { recursive: true, force: true });
  });

  it("runs commands in the image's own tree under the donor's kernel", async () => {
    const result = await pyro.runInVm({
      environment: "busybox:guest",
      command:
        "uname -r; cat /opt/keep/fresh.txt; ls /opt/data; test -e /etc/motd || echo no-motd; readlink /bin/sh; id -u",
      timeoutSeconds: 60,
    });
    expect(result.exit_code).toBe(0);
    const [kernel, fresh, data, motd, sh, uid] = result.stdout.trimEnd().split("\n");
    expect(kernel).toBe(donor.kernelRelease);
    expect([fresh, data, motd, sh]).toEqual(["fresh", "new.txt", "no-motd", "/bin/busybox"]);
    expect(uid).toMatch(/^\d+$/);
  });
});
