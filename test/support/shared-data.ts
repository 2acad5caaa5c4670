import { existsSync } from "node:fs";
import { it } from "vitest";

/**
 * Test data that lives beside the repository, in the workplace's `../shared` folder (for
 * example OpenFGA's own conformance cases), not in it. A plain clone has no such folder:
 * its tests are reported skipped, with the reason, instead of failing the run.
 */
export interface SharedData {
  /** The file, when this checkout has it. */
  url: URL | undefined;
  /** Where it was looked for, relative to the repository. */
  path: string;
}

const REPOSITORY = new URL("../../", import.meta.url);

/** `relative` is under `../shared`, e.g. `conformance/openfga/consolidated_1_1_tests.yaml`. */
export function sharedData(relative: string): SharedData {
  const url = new URL(`../shared/${relative}`, REPOSITORY);
  return { url: existsSync(url) ? url : undefined, path: `../shared/${relative}` };
}

/** Registers the tests that read `data` when it is present; one skipped test saying why when not. */
export function withSharedData(data: SharedData, register: (url: URL) => void): void {
  if (data.url) {
    register(data.url);
    return;
  }
  it.skip(`skipped: ${data.path} is not in this checkout (it sits beside the repository, not in it)`, () => {});
}
