/** The store surfaces build once (the CLI process, an MCP server, each `new Pyro()`). */
export { SandboxStore, type StoreOptions } from "../sandbox/store.js";
