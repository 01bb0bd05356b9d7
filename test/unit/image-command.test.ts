import { describe, expect, it } from "vitest";
import { imageDefaultCommand } from "../../src/sandbox/vm/image-command.js";

const image = (entrypoint: string[] | null, cmd: string[] | null) => ({
  env: [],
  working_dir: null,
  user: null,
  entrypoint,
  cmd,
});

describe("the command of a run without one (Docker's Entrypoint + Cmd)", () => {
  it("runs the Entrypoint followed by the Cmd as one argv", () => {
    expect(imageDefaultCommand(image(["/bin/sh"], ["-c", "id -u"]))).toEqual(["/bin/sh", "-c", "id -u"]);
  });

  it("runs either alone when the image names only one", () => {
    expect(imageDefaultCommand(image(null, ["echo", "hello from cmd"]))).toEqual(["echo", "hello from cmd"]);
    expect(imageDefaultCommand(image(["/usr/bin/server", "--port=80"], null))).toEqual([
      "/usr/bin/server",
      "--port=80",
    ]);
  });

  it("has none when the image names neither, or empty ones, or there is no image", () => {
    expect(imageDefaultCommand(image(null, null))).toBeNull();
    expect(imageDefaultCommand(image([], []))).toBeNull();
    expect(imageDefaultCommand(null)).toBeNull();
    expect(imageDefaultCommand(undefined)).toBeNull();
  });
});
