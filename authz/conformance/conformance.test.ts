/**
 * OpenFGA's own conformance cases, and Switchboard's policy cases (authz/model.fga.yaml),
 * against the embedded evaluator: one test per case, so a failure names it. The same files
 * run against a real OpenFGA server in authz/openfga/conformance-server.test.ts.
 */

import { expect, it } from "vitest";
import { sharedData, withSharedData } from "../../test/support/shared-data.js";
import { describeConformanceFile } from "./describe-conformance.js";
import { embeddedTarget } from "./embedded-target.js";
import { loadConformanceFile } from "./load.js";

const openFgaSuite = sharedData("conformance/openfga/consolidated_1_1_tests.yaml");
const switchboardPolicy = new URL("../model.fga.yaml", import.meta.url);

withSharedData(openFgaSuite, (url) => {
  describeConformanceFile(
    "OpenFGA conformance suite (consolidated_1_1_tests.yaml)",
    loadConformanceFile(url),
    embeddedTarget,
  );
  it("loads every case of OpenFGA's suite", () => {
    expect(loadConformanceFile(url).cases).toHaveLength(104);
  });
});
describeConformanceFile(
  "Switchboard policy (authz/model.fga.yaml)",
  loadConformanceFile(switchboardPolicy),
  embeddedTarget,
);

it("loads Switchboard's policy cases", () => {
  expect(loadConformanceFile(switchboardPolicy).cases.length).toBeGreaterThan(10);
});
