import { defineRuntimeContract } from "./contract.js";
import { n8nFixture, n8nRespondFixture } from "./n8n-fixture.js";

defineRuntimeContract("n8n", n8nFixture);
defineRuntimeContract("n8n respond-to-webhook", n8nRespondFixture);
