import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { parseChallenge } from "../../src/environments/oci/challenge.js";
import { dockerConfigCredentials } from "../../src/environments/oci/docker-config.js";
import { formatReference, parseReference } from "../../src/environments/oci/reference.js";

const D = `sha256:${"ab".repeat(32)}`;

describe("image references", () => {
  it.each([
    ["debian", "docker.io", "library/debian", "latest", null],
    ["debian:12", "docker.io", "library/debian", "12", null],
    ["docker.io/library/debian:12", "docker.io", "library/debian", "12", null],
    ["index.docker.io/user/app", "docker.io", "user/app", "latest", null],
    ["user/app:v1.2-rc_3", "docker.io", "user/app", "v1.2-rc_3", null],
    ["127.0.0.1:5000/pyro/debian:12", "127.0.0.1:5000", "pyro/debian", "12", null],
    ["localhost/app", "localhost", "app", "latest", null],
    ["ghcr.io/org/team/app@" + D, "ghcr.io", "org/team/app", null, D],
    ["reg.example:443/a/b:t@" + D, "reg.example:443", "a/b", "t", D],
  ])("%s", (text, registry, repository, tag, digest) => {
    const ref = parseReference(text);
    expect(ref).toEqual({ registry, repository, tag, digest });
    expect(parseReference(formatReference(ref))).toEqual(ref);
  });

  it.each([
    "",
    "UPPER/case",
    "a//b",
    "app:",
    "app:-bad",
    "app@sha256:1234",
    "app@md5:" + "a".repeat(32),
    "-lead",
    "a/b/",
    "host:99999999/a",
  ])("refuses %j as INVALID_ARGUMENT", (text) => {
    let error: unknown;
    try {
      parseReference(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PyroError);
    expect((error as PyroError).code).toBe("INVALID_ARGUMENT");
  });

  it("formats the docker.io default explicitly", () => {
    expect(formatReference(parseReference("alpine"))).toBe("docker.io/library/alpine:latest");
  });
});

describe("WWW-Authenticate challenges", () => {
  it("reads a Bearer challenge with quoted and escaped values", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="reg \\"x\\"",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: 'reg "x"', scope: "repository:a/b:pull,push" },
    });
  });

  it("prefers Bearer among several challenges and reads Basic", () => {
    expect(parseChallenge('Basic realm="r", Bearer realm="https://t/x", service=s')?.params).toEqual({
      realm: "https://t/x",
      service: "s",
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: "basic",
      params: { realm: "Registry Realm" },
    });
    expect(parseChallenge("Negotiate abc")).toBeNull();
    expect(parseChallenge(undefined)).toBeNull();
  });
});

describe("Docker config credentials", () => {
  it("matches auths keys written as URLs or hosts, in auth or username/password form", () => {
    const dir = mkdtempSync("/tmp/pyro-oci-unit-");
    try {
      mkdirSync(join(dir, "cfg"));
      writeFileSync(
        join(dir, "cfg", "config.json"),
        JSON.stringify({
          auths: {
            "https://index.docker.io/v1/": { auth: Buffer.from("hub:secret:with:colons").toString("base64") },
            "reg.example:5000": { username: "u", password: "p" },
            "http://127.0.0.1:5001/v2/": { auth: Buffer.from("local:pw").toString("base64") },
          },
          credsStore: "desktop",
        }),
      );
      const env = { DOCKER_CONFIG: join(dir, "cfg") };
      expect(dockerConfigCredentials("docker.io", env)).toEqual({
        username: "hub",
        password: "secret:with:colons",
      });
      expect(dockerConfigCredentials("reg.example:5000", env)).toEqual({ username: "u", password: "p" });
      expect(dockerConfigCredentials("127.0.0.1:5001", env)).toEqual({ username: "local", password: "pw" });
      expect(dockerConfigCredentials("other.example", env)).toBeNull();
      expect(dockerConfigCredentials("docker.io", { HOME: join(dir, "nohome") })).toBeNull();
      writeFileSync(join(dir, "cfg", "config.json"), "{not json");
      expect(() => dockerConfigCredentials("docker.io", env)).toThrow(PyroError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
