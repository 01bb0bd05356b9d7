/** Build step: `node dist/surfaces/cli/write-manifest.js` writes the CLI manifest from the specs. */
import { writeCliManifest } from "./manifest.js";

await writeCliManifest();
