import { release } from "node:os";
import { inspectEnvironment } from "../../src/environments/index.js";

/** The guest tier boots the installed debian:12; its kernel release proves where a command ran. */
export async function installedGuestKernel(): Promise<string> {
  const details = await inspectEnvironment("debian:12");
  if (!details.installed || details.kernel_release === null) {
    throw new Error(
      "debian:12 is not installed: run `node dist/cli.js env pull debian:12` first (npm test does)",
    );
  }
  if (details.kernel_release === release())
    throw new Error("guest and host kernels are the same; the proof would be void");
  return details.kernel_release;
}
