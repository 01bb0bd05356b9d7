import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importImage } from "../../src/environments/import/index.js";
import type { InstalledEnvironment } from "../../src/environments/installed.js";
import { PyroError } from "../../src/errors/index.js";
import {
  tarOf,
  writeLayout,
  type LayerSpec,
  type LayoutOptions,
  type Member,
} from "../helpers/hand-made-layout.js";
import { debugfs, sharedKernelDonor } from "../helpers/oci-images.js";

// Image layers as an attacker writes them: each must be refused with nothing installed, no
// staging folder left, and nothing written or deleted outside the cache.

let work: string;
let cache: string;
let outside: string;
let donor: InstalledEnvironment;
let layoutCount = 0;
const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
const savedEntryCap = process.env.PYRO_MAX_IMAGE_ENTRIES;
const savedByteCap = process.env.PYRO_MAX_IMAGE_BYTES;

beforeAll(async () => {
  donor = sharedKernelDonor();
  work = await mkdtemp(join(tmpdir(), "pyro-import-hostile-"));
  cache = join(work, "cache");
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = cache;
});

afterAll(async () => {
  if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  // A folder outside the cache that the layers aim at: it must end as it started.
  outside = join(work, `outside-${layoutCount}`);
  mkdirSync(outside);
  writeFileSync(join(outside, "victim"), "intact\n");
});

afterEach(() => {
  if (savedEntryCap === undefined) delete process.env.PYRO_MAX_IMAGE_ENTRIES;
  else process.env.PYRO_MAX_IMAGE_ENTRIES = savedEntryCap;
  if (savedByteCap === undefined) delete process.env.PYRO_MAX_IMAGE_BYTES;
  else process.env.PYRO_MAX_IMAGE_BYTES = savedByteCap;
});

/** Writes a layout of `layers` and imports it as "hostile"; returns the error it fails with. */
async function importLayers(
  layers: Array<Member[] | LayerSpec>,
  options: LayoutOptions = {},
): Promise<PyroError> {
  layoutCount += 1;
  const layout = join(work, `layout-${layoutCount}`);
  writeLayout(
    layout,
    layers.map((layer) => (Array.isArray(layer) ? { tar: tarOf(layer) } : layer)),
    options,
  );
  const outcome = await importImage({ image: `oci:${layout}:t`, name: "hostile", kernelFrom: donor }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(PyroError);
  return outcome as PyroError;
}

/** Nothing installed, no staging folder left, the outside folder untouched. */
function expectNothingLeft(): void {
  const root = join(cache, "hostile");
  const left = existsSync(root) ? readdirSync(root) : [];
  expect(left.filter((name) => name !== ".build.lock")).toEqual([]);
  expect(readdirSync(outside)).toEqual(["victim"]);
  expect(readFileSync(join(outside, "victim"), "utf8")).toBe("intact\n");
}

async function expectUnsafe(layers: Array<Member[] | LayerSpec>, message: RegExp): Promise<void> {
  const error = await importLayers(layers);
  expect(error.code).toBe("IMAGE_UNSAFE");
  expect(error.message).toMatch(message);
  expectNothingLeft();
}

const up = (): string => relative(join(cache, "hostile", ".staging-x", "root"), outside);

describe("hostile image layers", () => {
  it("refuses a '..' member", async () => {
    await expectUnsafe([[{ name: "../../../escape", body: "x" }]], /'\.\.' segment/);
    await expectUnsafe([[{ name: "bin/../../escape", body: "x" }]], /'\.\.' segment/);
  });

  it("refuses an absolute member", async () => {
    await expectUnsafe([[{ name: `${outside}/dropped`, body: "x" }]], /absolute name/);
  });

  it("refuses a write through a symlink made by a lower layer", async () => {
    await expectUnsafe(
      [[{ name: "etc", type: "symlink", linkname: outside }], [{ name: "etc/victim", body: "owned\n" }]],
      /through the symlink \/etc/,
    );
    await expectUnsafe(
      [[{ name: "etc", type: "symlink", linkname: up() }], [{ name: "etc/dropped", body: "owned\n" }]],
      /through the symlink \/etc/,
    );
  });

  it("refuses a write through a symlink made earlier in the same layer", async () => {
    await expectUnsafe(
      [
        [
          { name: "a", type: "dir" },
          { name: "a/link", type: "symlink", linkname: "../../../../../../../../" },
          { name: "a/link/tmp/dropped", body: "owned\n" },
        ],
      ],
      /through the symlink \/a\/link/,
    );
  });

  it("refuses a whiteout or opaque marker through a symlink (nothing outside is deleted)", async () => {
    await expectUnsafe(
      [[{ name: "d", type: "symlink", linkname: outside }], [{ name: "d/.wh.victim" }]],
      /through the symlink \/d/,
    );
    await expectUnsafe(
      [[{ name: "d", type: "symlink", linkname: outside }], [{ name: "d/.wh..wh..opq" }]],
      /through the symlink \/d/,
    );
  });

  it("refuses an image whose /etc leads outside (pyro writes /etc/hostname there)", async () => {
    await expectUnsafe([[{ name: "etc", type: "symlink", linkname: outside }]], /through the symlink \/etc/);
  });

  it("replaces symlinks where pyro writes its own files and leaves linked mount points alone", async () => {
    layoutCount += 1;
    const layout = join(work, `layout-${layoutCount}`);
    const victim = join(outside, "victim");
    writeLayout(layout, [
      {
        tar: tarOf([
          { name: "etc", type: "dir" },
          { name: "etc/hostname", type: "symlink", linkname: victim },
          { name: "etc/hosts", type: "symlink", linkname: `../../../../../../../..${victim}` },
          { name: "etc/resolv.conf", type: "symlink", linkname: victim },
          { name: "tmp", type: "symlink", linkname: outside },
          { name: "workspace", type: "symlink", linkname: outside },
        ]),
      },
    ]);
    const installed = await importImage({ image: `oci:${layout}:t`, name: "linked", kernelFrom: donor });
    expect(readdirSync(outside)).toEqual(["victim"]);
    expect(readFileSync(victim, "utf8")).toBe("intact\n");
    expect(debugfs(installed.rootfsPath, "cat /etc/hostname")).toBe("pyro\n");
    expect(debugfs(installed.rootfsPath, "stat /tmp")).toContain(`Fast link dest: "${outside}"`);
  });

  it("refuses a whiteout naming '..'", async () => {
    await expectUnsafe(
      [[{ name: "etc", type: "dir" }], [{ name: "etc/.wh.." }]],
      /whiteout of no valid name/,
    );
  });

  it("refuses hard links whose target leaves the root", async () => {
    await expectUnsafe(
      [[{ name: "h", type: "hardlink", linkname: "../../../../etc/passwd" }]],
      /'\.\.' segment|outside/,
    );
    await expectUnsafe(
      [[{ name: "h", type: "hardlink", linkname: "/etc/passwd" }]],
      /outside the image's root/,
    );
    await expectUnsafe(
      [
        [
          { name: "d", type: "symlink", linkname: outside },
          { name: "h", type: "hardlink", linkname: "d/victim" },
        ],
      ],
      /through the symlink \/d/,
    );
  });

  it("refuses more members than the image entry cap", async () => {
    process.env.PYRO_MAX_IMAGE_ENTRIES = "1000";
    const many: Member[] = Array.from({ length: 1001 }, (_, index) => ({ name: `f${index}`, body: "" }));
    await expectUnsafe([many.slice(0, 600), many.slice(600)], /more than 1000 members/);
  });

  it("stops at the image byte cap", async () => {
    process.env.PYRO_MAX_IMAGE_BYTES = "4K";
    const error = await importLayers([
      [{ name: "a", body: "x".repeat(3000) }],
      [{ name: "b", body: "y".repeat(3000) }],
    ]);
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toMatch(/PYRO_MAX_IMAGE_BYTES/);
    expectNothingLeft();
  });

  it("refuses a tampered layer blob and a wrong diff ID", async () => {
    const layer = [{ name: "file", body: "data" }];
    expect((await importLayers([layer], { tamperLayer: 0 })).code).toBe("DIGEST_MISMATCH");
    expectNothingLeft();
    expect((await importLayers([layer], { wrongDiffId: 0 })).code).toBe("DIGEST_MISMATCH");
    expectNothingLeft();
  });

  it("refuses garbage where a gzip layer should be", async () => {
    const error = await importLayers([
      {
        tar: Buffer.from("not gzip at all, not a tar either".repeat(20)),
        gzip: false,
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      },
    ]);
    expect(error.code).toBe("IMAGE_UNSAFE");
    expectNothingLeft();
  });

  it("says zstd layers cannot be unpacked", async () => {
    const error = await importLayers([
      {
        tar: tarOf([{ name: "f", body: "x" }]),
        gzip: false,
        mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      },
    ]);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/zstd/);
    expectNothingLeft();
  });

  it("refuses an image for another architecture", async () => {
    const error = await importLayers([[{ name: "f", body: "x" }]], { architecture: "arm64" });
    expect(error.code).toBe("IMAGE_PLATFORM_MISMATCH");
    expect(error.message).toMatch(/linux\/arm64/);
    expectNothingLeft();
    const nested = await importLayers([[{ name: "f", body: "x" }]], { indexArchitecture: "arm64" });
    expect(nested.code).toBe("IMAGE_PLATFORM_MISMATCH");
    expect(nested.message).toMatch(/it has linux\/arm64/);
    expectNothingLeft();
  });
});
