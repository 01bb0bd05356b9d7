/**
 * Entry point of a VM supervisor process: `node main.js VM_DIR`. Started detached by the VM
 * manager; reports readiness as one JSON line on fd 3, then lives as long as the VM.
 */
import { driverByName } from "../machine/registry.js";
import { readSupervisorConfig } from "./config.js";
import { Supervisor } from "./supervisor.js";

const READY_FD = 3;

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write("usage: supervisor VM_DIR\n");
  process.exit(2);
}
const config = readSupervisorConfig(dir);
// Signals from a terminal never reach a detached supervisor; SIGTERM means "stop the VM properly".
process.on("SIGTERM", () => void supervisor.stop("shutdown", "SIGTERM"));
process.on("SIGHUP", () => undefined);
const supervisor = new Supervisor(config, driverByName(config.backend), READY_FD);
void supervisor.run();
