import { describe, expect, it } from "vitest";
import { guestEnv, guestUser, userOverride, type GuestImage } from "../../src/sandbox/guest-env.js";

const image: GuestImage = {
  env: ["PATH=/bin:/sbin", "APP_MODE=test", "EQUALS=a=b", "NOVALUE"],
  working_dir: "/srv",
  user: { spec: "app:app", uid: 1000, gid: 1001 },
};

describe("a guest command's environment and user", () => {
  it("is pyro's defaults without an image, with the call's variables over them", () => {
    expect(guestEnv(null, { TERM: "xterm", X: "1" })).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      "USER=root",
      "LANG=C.UTF-8",
      "TERM=xterm",
      "X=1",
    ]);
    expect(guestUser(null)).toEqual({});
  });

  it("takes the image's Env over the defaults and the call's over both", () => {
    const env = guestEnv(image, { APP_MODE: "call" });
    expect(env).toContain("PATH=/bin:/sbin");
    expect(env).toContain("APP_MODE=call");
    expect(env).toContain("EQUALS=a=b");
    expect(env.some((entry) => entry.startsWith("NOVALUE"))).toBe(false);
    // A non-root user is not root's HOME and USER, unless the image says so.
    expect(env).toContain("HOME=/");
    expect(env).toContain("USER=app");
    expect(guestEnv({ ...image, env: ["HOME=/home/app"] })).toContain("HOME=/home/app");
    expect(guestEnv({ ...image, user: { spec: "1000:1001", uid: 1000, gid: 1001 } }).join(" ")).not.toMatch(
      /USER=/,
    );
    expect(guestUser(image)).toEqual({ user: { uid: 1000, gid: 1001 } });
  });
});

describe("a call's own user", () => {
  it("is root, a UID (its group the same number) or UID:GID", () => {
    expect(userOverride("root")).toEqual({ spec: "root", uid: 0, gid: 0 });
    expect(userOverride("1000")).toEqual({ spec: "1000", uid: 1000, gid: 1000 });
    expect(userOverride("1000:50")).toEqual({ spec: "1000:50", uid: 1000, gid: 50 });
    // Root gets root's HOME and USER back over a non-root image user's.
    expect(guestEnv({ ...image, user: userOverride("root") })).toContain("HOME=/root");
    expect(guestUser({ ...image, user: userOverride("0:0") })).toEqual({ user: { uid: 0, gid: 0 } });
  });

  it("refuses names and out-of-range numbers", () => {
    for (const bad of ["app", "1000:app", "-1", "4294967295", "1:4294967295", "", "root:0"]) {
      expect(() => userOverride(bad), bad).toThrow(/user must be root, UID or UID:GID/);
    }
  });
});
