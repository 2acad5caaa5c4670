/**
 * Loads a conformance file of either supported format, telling them apart by shape: OpenFGA's
 * suite has `tests[].stages`; a store test file has `model`/`model_file` and `tests[]`.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { isOpenFgaSuite, readOpenFgaSuite } from "./openfga-suite-format.js";
import { isStoreFile, readStoreFile } from "./store-file-format.js";
import type { ConformanceFile } from "./suite.js";

export function loadConformanceFile(location: string | URL): ConformanceFile {
  const path = location instanceof URL ? fileURLToPath(location) : location;
  const document: unknown = parse(readFileSync(path, "utf8"));
  if (isOpenFgaSuite(document)) return { source: path, cases: readOpenFgaSuite(document) };
  if (isStoreFile(document)) return { source: path, cases: readStoreFile(document, path) };
  throw new Error(
    `${path} is neither an OpenFGA conformance suite (tests[].stages) nor a store test file (model or model_file, and tests).`,
  );
}
