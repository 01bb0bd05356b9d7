import type { Command } from "commander";
import { commandFromArgs } from "./command-args.js";
import { integerOption, runForCli, stripUndefined, type Flags } from "./output.js";

/** `pyro vm …`: the VM lifecycle, one command per vm_* operation. */
export function registerVm(program: Command, setExit: (code: number) => void): void {
  const vm = program
    .command("vm")
    .description("Create, start, exec in, stop and delete VMs one step at a time");

  vm.command("create")
    .description("Create a VM (not booted yet)")
    .argument("[environment]", "environment name (default debian:12)")
    .option("--vcpu-count <n>", "virtual CPUs (default 1)", integerOption("--vcpu-count"))
    .option("--mem-mib <n>", "guest memory in MiB (default 1024)", integerOption("--mem-mib"))
    .option("--ttl-seconds <n>", "lifetime in seconds (default 600)", integerOption("--ttl-seconds"))
    .option("--network", "give the guest network access")
    .option(
      "--allow-private-egress",
      "let egress reach private ranges (10/8, 172.16/12, 192.168/16, 100.64/10)",
    )
    .option("--backend <name>", "auto, qemu, firecracker or host")
    .option("--allow-host-compat", "allow running without isolation when no VM can run")
    .option("--json", "print JSON")
    .action(async (environment: string | undefined, flags: Flags) => {
      const input = stripUndefined({
        environment,
        vcpu_count: flags.vcpuCount,
        mem_mib: flags.memMib,
        ttl_seconds: flags.ttlSeconds,
        network: flags.network,
        allow_private_egress: flags.allowPrivateEgress,
        backend: flags.backend,
        allow_host_compat: flags.allowHostCompat,
      });
      setExit(await runForCli("vm_create", input, { json: flags.json === true, scope: "vm-create" }));
    });

  for (const [name, operation, description] of [
    ["start", "vm_start", "Boot a VM and wait for its guest agent"],
    ["stop", "vm_stop", "Stop a VM (the guest syncs and powers off)"],
    ["delete", "vm_delete", "Stop and delete a VM"],
    ["status", "vm_status", "Show a VM's state"],
    ["network-info", "vm_network_info", "Show a VM's network policy and ports"],
  ] as const) {
    vm.command(name)
      .description(description)
      .argument("<vm-id>", "VM id")
      .option("--json", "print JSON")
      .action(async (vmId: string, flags: Flags) => {
        setExit(
          await runForCli(operation, { vm_id: vmId }, { json: flags.json === true, scope: `vm-${name}` }),
        );
      });
  }

  vm.command("exec")
    .description("Run one command in a started VM, then delete the VM")
    .argument("<vm-id>", "VM id")
    .argument("[command...]", "command after --")
    .option(
      "--timeout-seconds <n>",
      "kill the command after N seconds (default 30)",
      integerOption("--timeout-seconds"),
    )
    .option("--json", "print JSON")
    .action(async (vmId: string, args: string[], flags: Flags) => {
      const input = stripUndefined({
        vm_id: vmId,
        command: commandFromArgs(args),
        timeout_seconds: flags.timeoutSeconds,
      });
      setExit(await runForCli("vm_exec", input, { json: flags.json === true, scope: "vm-exec" }));
    });

  vm.command("list")
    .description("List VMs")
    .option("--json", "print JSON")
    .action(async (flags: Flags) =>
      setExit(await runForCli("vm_list", {}, { json: flags.json === true, scope: "vm-list" })),
    );

  vm.command("reap-expired")
    .description("Delete expired and orphaned VMs")
    .option("--json", "print JSON")
    .action(async (flags: Flags) =>
      setExit(await runForCli("vm_reap_expired", {}, { json: flags.json === true, scope: "vm-reap" })),
    );
}
