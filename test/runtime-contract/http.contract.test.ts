import { defineRuntimeContract } from "./contract.js";
import { httpFixture, httpSseFixture } from "./http-fixture.js";

defineRuntimeContract("http", httpFixture);
defineRuntimeContract("http server-sent events", httpSseFixture);
