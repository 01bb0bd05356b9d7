// One command in a fresh, disposable microVM: created, started, used once and deleted.
import { Pyro } from "pyro-mcp";

const pyro = new Pyro();
const result = await pyro.runInVm({ environment: "debian:12", command: "git --version && uname -r" });
console.log(result.stdout.trimEnd());
console.log(JSON.stringify({ exit_code: result.exit_code, execution_mode: result.execution_mode }));
