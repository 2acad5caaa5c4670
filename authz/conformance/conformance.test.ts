/**
 * OpenFGA's own conformance cases, and Switchboard's policy cases (authz/model.fga.yaml),
 * against the embedded evaluator: one test per case, so a failure names it. The same files
 * run against a real OpenFGA server in authz/openfga/conformance-server.test.ts.
 */

import { expect, it } from "vitest";
import { describeConformanceFile } from "./describe-conformance.js";
import { embeddedTarget } from "./embedded-target.js";
import { loadConformanceFile } from "./load.js";

const openFgaSuite = new URL(
  "../../../shared/conformance/openfga/consolidated_1_1_tests.yaml",
  import.meta.url,
);
const switchboardPolicy = new URL("../model.fga.yaml", import.meta.url);

describeConformanceFile(
  "OpenFGA conformance suite (consolidated_1_1_tests.yaml)",
  loadConformanceFile(openFgaSuite),
  embeddedTarget,
);
describeConformanceFile(
  "Switchboard policy (authz/model.fga.yaml)",
  loadConformanceFile(switchboardPolicy),
  embeddedTarget,
);

it("loads every case of both files", () => {
  expect(loadConformanceFile(openFgaSuite).cases).toHaveLength(104);
  expect(loadConformanceFile(switchboardPolicy).cases.length).toBeGreaterThan(10);
});
