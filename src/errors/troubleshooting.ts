import { fileURLToPath } from "node:url";
import type { ErrorCode } from "./catalog.js";

/**
 * docs/troubleshooting.md as shipped in the package (two levels up from dist/errors/ or
 * src/errors/): a local file, so the link works offline and matches the installed version.
 */
const TROUBLESHOOTING_FILE = fileURLToPath(new URL("../../docs/troubleshooting.md", import.meta.url));

/** A code's anchor in docs/troubleshooting.md: its `## CODE` heading, lower-cased. */
export const troubleshootingAnchor = (code: ErrorCode): string => code.toLowerCase();

/** Where a code's entry is: `/…/docs/troubleshooting.md#vm_boot_timeout`. */
export const troubleshootingLink = (code: ErrorCode): string =>
  `${TROUBLESHOOTING_FILE}#${troubleshootingAnchor(code)}`;
