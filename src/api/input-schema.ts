import { z } from "zod";
import { takesNoInput, type AnyOperation } from "./types.js";

const EMPTY = z.object({});

/** The zod schema of an operation's input, `z.object({})` for one that takes none (the surfaces publish it). */
export const inputSchemaOf = (operation: AnyOperation): z.ZodObject =>
  takesNoInput(operation.input) ? EMPTY : operation.input;
