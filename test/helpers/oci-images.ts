import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { environmentPaths } from "../../src/environments/paths.js";
import { installedEnvironment, type InstalledEnvironment } from "../../src/environments/installed.js";
import { readManifest } from "../../src/environments/manifest.js";

/**
 * The kernel donor for imports in tests: the shared cache's installed debian:12-base (else
 * debian:12), read without writing anything there.
 */
export function sharedKernelDonor(): InstalledEnvironment {
  const env = { ...process.env, PYRO_ENVIRONMENT_CACHE_DIR: "" };
  for (const name of ["debian:12-base", "debian:12"]) {
    const dir = environmentPaths(name, undefined, env).entryDir;
    try {
      return installedEnvironment(dir, readManifest(dir));
    } catch {
      // not installed there; try the next
    }
  }
  throw new Error("the shared cache has neither debian:12-base nor debian:12 installed");
}

function run(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The manifest digest of `tag` in an OCI layout's index.json. */
export function layoutDigest(layout: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const found = index.manifests.find(
    (entry) => entry.annotations?.["org.opencontainers.image.ref.name"] === tag,
  );
  if (!found) throw new Error(`no ${tag} in ${layout}`);
  return found.digest;
}

/**
 * A busybox-only image made with umoci in `layout` (tag "app"), three layers:
 *  1. busybox-static with `busybox --install -s`, /etc/passwd with app (1000:1000), /etc/motd,
 *     /opt/data/old.txt, /opt/keep/k.txt, /home/app owned by app, a setuid file, a hard link, a FIFO;
 *  2. umoci's diff: /etc/motd deleted (a .wh. whiteout), /opt/data replaced by a fresh dir;
 *  3. a hand-made layer making /opt/keep opaque (.wh..wh..opq) with one new file.
 * Config: by default Env GREETING, WorkingDir /home/app, User app, Entrypoint /bin/sh, Cmd
 * `-c 'id -u'`; `config` replaces any of them (an Entrypoint of null leaves none).
 */
export function buildBusyboxImage(work: string, layout: string, config: BusyboxImageConfig = {}): void {
  run("umoci", ["init", "--layout", layout]);
  run("umoci", ["new", "--image", `${layout}:app`]);
  const first = join(work, "bundle1");
  run("umoci", ["unpack", "--image", `${layout}:app`, first]);
  const root = join(first, "rootfs");
  for (const dir of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "opt/data", "opt/keep", "home/app"]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  cpSync("/bin/busybox", join(root, "bin/busybox"));
  // In a chroot busybox links its applets to /bin/busybox (outside one, to the host's path).
  run("chroot", [root, "/bin/busybox", "--install", "-s"]);
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:1000:\n");
  writeFileSync(join(root, "etc/motd"), "hello\n");
  writeFileSync(join(root, "opt/data/old.txt"), "old\n");
  writeFileSync(join(root, "opt/keep/k.txt"), "lower\n");
  writeFileSync(join(root, "opt/setuid-tool"), "#!/bin/sh\n");
  chmodSync(join(root, "opt/setuid-tool"), 0o4755);
  run("ln", [join(root, "opt/setuid-tool"), join(root, "opt/hardlinked")]);
  run("mkfifo", [join(root, "opt/fifo")]);
  chownSync(join(root, "home/app"), 1000, 1000);
  run("umoci", ["repack", "--image", `${layout}:app`, first]);

  const second = join(work, "bundle2");
  run("umoci", ["unpack", "--image", `${layout}:app`, second]);
  rmSync(join(second, "rootfs/etc/motd"));
  rmSync(join(second, "rootfs/opt/data"), { recursive: true });
  mkdirSync(join(second, "rootfs/opt/data"));
  writeFileSync(join(second, "rootfs/opt/data/new.txt"), "new\n");
  run("umoci", ["repack", "--image", `${layout}:app`, second]);

  const third = join(work, "layer3");
  mkdirSync(join(third, "opt/keep"), { recursive: true });
  writeFileSync(join(third, "opt/keep/.wh..wh..opq"), "");
  writeFileSync(join(third, "opt/keep/fresh.txt"), "fresh\n");
  run("tar", ["--numeric-owner", "-C", third, "-cf", join(work, "layer3.tar"), "opt"]);
  run("umoci", ["raw", "add-layer", "--image", `${layout}:app`, join(work, "layer3.tar")]);

  const entrypoint = config.entrypoint === undefined ? ["/bin/sh"] : config.entrypoint;
  run("umoci", [
    "config",
    "--image",
    `${layout}:app`,
    ...(config.env ?? ["GREETING=hello world"]).flatMap((entry) => ["--config.env", entry]),
    "--config.workingdir",
    config.workingDir ?? "/home/app",
    "--config.user",
    config.user ?? "app",
    ...(entrypoint === null ? [] : entrypoint.flatMap((word) => ["--config.entrypoint", word])),
    ...(config.cmd ?? ["-c", "id -u"]).flatMap((word) => ["--config.cmd", word]),
  ]);
}

/** What buildBusyboxImage's image config says instead of its defaults. */
export interface BusyboxImageConfig {
  env?: string[];
  workingDir?: string;
  user?: string;
  entrypoint?: string[] | null;
  cmd?: string[];
}

/** Runs a debugfs request against an ext4 image (read-only) and returns its output. */
export function debugfs(image: string, request: string): string {
  return run("debugfs", ["-R", request, image]);
}
