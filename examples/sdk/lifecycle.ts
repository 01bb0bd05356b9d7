// A VM step by step: create, start, look at it, run one command (which deletes the VM).
import { Pyro } from "pyro-mcp";

const pyro = new Pyro();
const vm = await pyro.createVm({ environment: "debian:12", memMib: 512, ttlSeconds: 300 });
console.log(`created ${vm.vm_id} (${vm.state})`);
await pyro.startVm({ vmId: vm.vm_id });
const status = await pyro.statusVm({ vmId: vm.vm_id });
console.log(`started: ${status.state}, backend ${status.backend}`);
const once = await pyro.execVm({ vmId: vm.vm_id, command: ["uname", "-r"] });
console.log(
  JSON.stringify({ stdout: once.stdout, exit_code: once.exit_code, deleted: once.cleanup.deleted }),
);
