/**
 * The one catalog of error codes. Every PyroError carries one of these codes; the catalog maps it
 * to a CLI exit code and a default hint. MCP tool errors carry the code in text and structured content.
 *
 * Exit codes: 0 success; 1..125 are reserved for the guest command's own exit code in `run`;
 * pyro's own failures use the range below so scripts can tell them apart.
 */
export const ERROR_CATALOG = {
  INVALID_ARGUMENT: { exit: 64, hint: "Check the command's --help for valid values." },
  ENVIRONMENT_UNKNOWN: { exit: 65, hint: "Run `pyro env list` to see the catalog." },
  ENVIRONMENT_NOT_INSTALLED: { exit: 66, hint: "Run `pyro env build NAME` (or `pyro env pull NAME`)." },
  ENVIRONMENT_CORRUPT: { exit: 66, hint: "Run `pyro env build NAME --force` to rebuild it." },
  ENVIRONMENT_BUILD_FAILED: { exit: 70, hint: "See the build log named in the message." },
  ENVIRONMENT_BUSY: {
    exit: 75,
    hint: "Another process is building this environment; retry when it finishes.",
  },
  DEPENDENCY_MISSING: { exit: 69, hint: "Install the named tool, or run scripts/setup.sh as root." },
  ROOT_REQUIRED: { exit: 77, hint: "Run the command as root (sudo)." },
  KVM_UNAVAILABLE: { exit: 69, hint: "Run `pyro doctor` for details." },
  BACKEND_UNAVAILABLE: {
    exit: 69,
    hint: "Install qemu-system-x86 (or set PYRO_FIRECRACKER_BIN), or pass --allow-host-compat to run without isolation.",
  },
  VM_NOT_FOUND: { exit: 67, hint: "Run `pyro vm list` or check the id." },
  VM_NOT_RUNNING: { exit: 68, hint: "Start it again with `pyro vm start ID`, or delete it." },
  VM_BOOT_FAILED: { exit: 71, hint: "See the serial console log named in the message." },
  VM_BOOT_TIMEOUT: { exit: 71, hint: "The guest did not answer in time; see the serial console log." },
  AGENT_UNREACHABLE: { exit: 72, hint: "The VM's supervisor is gone; delete the VM and create a new one." },
  PROTOCOL_ERROR: {
    exit: 73,
    hint: "The guest sent malformed data; the VM was stopped. See its console log.",
  },
  EXEC_FAILED: { exit: 74, hint: "Check the command, its working directory and environment." },
  VM_EXPIRED: { exit: 68, hint: "Its TTL ran out; create a new VM (and pass a longer --ttl-seconds)." },
  NETWORK_UNAVAILABLE: {
    exit: 69,
    hint: "Run `pyro doctor` to see what networking this host offers, or use network policy off.",
  },
  NETWORK_POLICY_DENIED: {
    exit: 64,
    hint: "Create the workspace with --network-policy egress+published-ports to publish ports.",
  },
  PORT_IN_USE: {
    exit: 75,
    hint: "Pick another host port (0 lets the host choose one), or stop what holds it.",
  },
  WORKSPACE_NOT_FOUND: { exit: 67, hint: "Run `pyro workspace list` to see workspace ids." },
  WORKSPACE_NOT_RUNNING: { exit: 68, hint: "Run `pyro workspace reset ID` to recreate its sandbox." },
  PATH_OUTSIDE_WORKSPACE: {
    exit: 64,
    hint: "Use a path relative to /workspace, or an absolute path inside it, that does not leave it.",
  },
  FILE_NOT_FOUND: { exit: 78, hint: "Check the path with `pyro workspace file list ID`." },
  ARCHIVE_UNSAFE: {
    exit: 64,
    hint: "Archives may hold only relative paths inside the tree: no absolute or .. entries, devices, or links that leave it.",
  },
  PATCH_FAILED: { exit: 79, hint: "Nothing was changed. Regenerate the patch against the current files." },
  TEMPLATE_UNAVAILABLE: {
    exit: 69,
    hint: "Sandboxes still start (they boot cold). Run `pyro doctor`, and `pyro env prune` then retry; `cold_reason` says why.",
  },
  SAVED_STATE_INVALID: {
    exit: 76,
    hint: "The paused state was changed or damaged after the pause; nothing was run. Delete the workspace, or reset it (`pyro workspace reset ID`) to start fresh from its baseline.",
  },
  WORKSPACE_PAUSED: { exit: 68, hint: "Run `pyro workspace resume ID` first." },
  SNAPSHOT_NOT_FOUND: { exit: 67, hint: "Run `pyro workspace snapshot list ID`." },
  SNAPSHOT_EXISTS: { exit: 64, hint: "Pick another name, or delete the existing snapshot first." },
  OUTPUT_EXISTS: { exit: 64, hint: "Choose a new output path, or pass --overwrite to replace it." },
  SHELL_NOT_FOUND: { exit: 67, hint: "Run `pyro workspace status ID` to see its shells." },
  SHELL_ENDED: {
    exit: 68,
    hint: "The shell has exited; open a new one with `pyro workspace shell open ID`.",
  },
  SERVICE_NOT_FOUND: { exit: 67, hint: "Run `pyro workspace service list ID`." },
  SERVICE_EXISTS: { exit: 64, hint: "Stop it first, or pick another name." },
  SERVICE_NOT_READY: {
    exit: 80,
    hint: "The service was stopped. Check its command and readiness check; its last log lines are in the message.",
  },
  SECRET_NOT_FOUND: {
    exit: 67,
    hint: "Secrets are given at create time with --secret NAME=VALUE or --secret-file NAME=PATH.",
  },
  WORKSPACE_RUNNING: {
    exit: 68,
    hint: "Disk tools read a stopped workspace: run `pyro workspace stop ID` first.",
  },
  NO_DISK: {
    exit: 69,
    hint: "Host-compat workspaces have no disk image; use file and export tools instead.",
  },
  LIMIT_EXCEEDED: {
    exit: 81,
    hint: "A size or count limit was reached; the message names the limit and how to raise it.",
  },
  HOST_PATH_DENIED: {
    exit: 82,
    hint: "Start the MCP server with `pyro mcp serve --allow-host-path DIR` to allow that folder.",
  },
  HOST_DISK_FULL: {
    exit: 83,
    hint: "Free space on the host filesystem named in the message, or write elsewhere.",
  },
  CWD_NOT_FOUND: {
    exit: 84,
    hint: "Pass a --cwd that is a directory inside /workspace (see `pyro workspace file list ID`).",
  },
  REGISTRY_UNREACHABLE: {
    exit: 85,
    hint: "Check the registry address and that it is up; pass --insecure only for a plain-HTTP registry you run.",
  },
  REGISTRY_AUTH_FAILED: {
    exit: 86,
    hint: "Log in with --username and --password-stdin, or add the registry to your Docker config (~/.docker/config.json).",
  },
  IMAGE_NOT_FOUND: {
    exit: 67,
    hint: "Check the repository, tag or digest; the registry has no such manifest.",
  },
  DIGEST_MISMATCH: {
    exit: 87,
    hint: "Bytes from the registry did not match their digest and were discarded; retry, and if it persists the registry serves damaged data.",
  },
  IMAGE_PLATFORM_MISMATCH: {
    exit: 88,
    hint: "pyro runs linux/amd64 images; pick a tag that has that platform.",
  },
  IMAGE_UNSAFE: {
    exit: 89,
    hint: "The image's layers try to write outside its root filesystem; nothing was installed.",
  },
  REGISTRY_ERROR: {
    exit: 90,
    hint: "The registry answered in a way pyro cannot use; the message quotes it.",
  },
  STATE_CORRUPT: { exit: 76, hint: "The state folder named in the message is damaged; delete it." },
  PATH_TOO_LONG: { exit: 64, hint: "Set PYRO_HOME to a shorter directory." },
  INTERNAL: { exit: 70, hint: "This is a bug in pyro; please report it with the message." },
} as const satisfies Record<string, { exit: number; hint: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Exit code when a guest command was killed for running past its timeout (like timeout(1)). */
export const EXIT_TIMED_OUT = 124;
