/**
 * The same conformance files as conformance/conformance.test.ts, against a real OpenFGA
 * server: OpenFGA's own cases show the harness and our OpenFGA wiring are right, and our
 * policy cases show the server and the embedded evaluator agree on model.fga.
 */

import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { sharedData, withSharedData } from "../../test/support/shared-data.js";
import { describeConformanceFile } from "../conformance/describe-conformance.js";
import { loadConformanceFile } from "../conformance/index.js";
import { openFgaTarget } from "./conformance-target.js";

const suite = sharedData("conformance/openfga/consolidated_1_1_tests.yaml");
const policy = new URL("../model.fga.yaml", import.meta.url);

describeWithOpenFga("against a real OpenFGA server", (openFga) => {
  const target = () => openFgaTarget(openFga().url);

  withSharedData(suite, (url) =>
    describeConformanceFile(
      "OpenFGA conformance suite (consolidated_1_1_tests.yaml)",
      loadConformanceFile(url),
      target,
    ),
  );
  describeConformanceFile(
    "Switchboard policy (authz/model.fga.yaml)",
    loadConformanceFile(policy),
    target,
  );
});
