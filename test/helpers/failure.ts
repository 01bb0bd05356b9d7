import { expect } from "vitest";
import { PyroError } from "../../src/errors/index.js";

/** The PyroError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<PyroError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PyroError);
  return error as PyroError;
}
