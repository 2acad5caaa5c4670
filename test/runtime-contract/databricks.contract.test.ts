import { defineRuntimeContract } from "./contract.js";
import { databricksOAuthFixture, databricksStreamingFixture } from "./databricks-fixture.js";

defineRuntimeContract("databricks", databricksStreamingFixture);
defineRuntimeContract("databricks oauth", databricksOAuthFixture);
