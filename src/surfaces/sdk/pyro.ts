import { invokeOperation } from "../../api/invoke.js";
import { OPERATIONS, type OperationTable } from "../../api/specs/index.js";
import { SandboxStore, type StoreOptions } from "../../api/store.js";
import type { InputSchema, Operation, OperationContext, RawInputOf } from "../../api/types.js";
import { snakeKeys, type CamelKeys } from "./case.js";

/** Callbacks for long operations: progress phases and live guest output. */
export type CallHooks = Partial<Omit<OperationContext, "store">>;

/** What `new Pyro(options)` takes: the store's home and options. */
export type PyroOptions = StoreOptions;

type OptionsOf<Op> = Op extends Operation<infer Input, unknown> ? CamelKeys<RawInputOf<Input>> : never;
type OutputOf<Op> = Op extends Operation<InputSchema, infer Output> ? Output : never;

/** Options may be left out when the operation has no parameters or none it needs. */
type Arguments<Options> = string extends keyof Options
  ? [options?: Record<string, never>, hooks?: CallHooks]
  : Partial<Options> extends Options
    ? [options?: Options, hooks?: CallHooks]
    : [options: Options, hooks?: CallHooks];

/** One SDK method per operation of the table, named by its spec's `sdkMethod`. */
export type PyroMethods = {
  [Op in OperationTable[number] as Op["sdkMethod"]]: (
    ...args: Arguments<OptionsOf<Op>>
  ) => Promise<OutputOf<Op>>;
};

/**
 * The pyro SDK: every operation of the CLI and the MCP server as a method. Options are one
 * camelCase object; results have the same snake_case shape as `--json` output and MCP structured
 * content. Failures throw PyroError (with `code`, `hint`, `docs`); a guest command's non-zero exit is a result.
 */
class PyroClient {
  /** The sandboxes this client works on: its own home, so two clients never interfere. */
  readonly store: SandboxStore;

  constructor(options: PyroOptions = {}) {
    this.store = new SandboxStore(options);
  }
}

for (const operation of OPERATIONS) {
  Object.defineProperty(PyroClient.prototype, operation.sdkMethod, {
    // The one case conversion of an SDK call: camelCase options onto the snake_case input.
    value: function (this: PyroClient, options: object = {}, hooks: CallHooks = {}): Promise<unknown> {
      return invokeOperation(operation, snakeKeys({ ...options }), { ...hooks, store: this.store });
    },
    writable: true,
    configurable: true,
  });
}

export type Pyro = PyroClient & PyroMethods;
// The methods are attached above, one per spec; this gives the class their types.
export const Pyro = PyroClient as new (options?: PyroOptions) => Pyro;
