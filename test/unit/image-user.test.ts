import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveImageUser } from "../../src/environments/import/image-user.js";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "pyro-image-user-"));
  mkdirSync(join(root, "etc"));
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000:app:/home/app:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("the image config's User resolved in the image's own account files", () => {
  it("gives no user for an empty spec", () => {
    expect(resolveImageUser(root, "")).toBeNull();
    expect(resolveImageUser(root, undefined)).toBeNull();
  });

  it("resolves names and numbers, with or without a group", () => {
    expect(resolveImageUser(root, "app")).toEqual({ spec: "app", uid: 1000, gid: 1000 });
    expect(resolveImageUser(root, "web:staff")).toEqual({ spec: "web:staff", uid: 33, gid: 50 });
    expect(resolveImageUser(root, "1000:1000")).toEqual({ spec: "1000:1000", uid: 1000, gid: 1000 });
    expect(resolveImageUser(root, "33")).toEqual({ spec: "33", uid: 33, gid: 33 });
    expect(resolveImageUser(root, "app:0")).toEqual({ spec: "app:0", uid: 1000, gid: 0 });
  });

  it("takes a numeric user that has no passwd entry as is, in group 0", () => {
    expect(resolveImageUser(root, "4242")).toEqual({ spec: "4242", uid: 4242, gid: 0 });
  });

  it("refuses a name the image does not have", () => {
    expect(() => resolveImageUser(root, "nobody")).toThrow(/no user "nobody"/);
    expect(() => resolveImageUser(root, "app:wheel")).toThrow(/no group "wheel"/);
  });

  it("never reads account files through a symlink (the host's /etc stays unread)", () => {
    rmSync(join(root, "etc"), { recursive: true });
    symlinkSync("/etc", join(root, "etc"));
    expect(() => resolveImageUser(root, "root")).toThrow(/no user "root"/);
    expect(resolveImageUser(root, "0:0")).toEqual({ spec: "0:0", uid: 0, gid: 0 });
  });
});
