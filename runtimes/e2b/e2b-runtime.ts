import { EgressPolicy } from "../egress/index.js";
import { SandboxRuntime } from "../sandbox/index.js";
import { E2bSandboxProvider } from "./e2b-provider.js";
import { type E2bSettings, e2bSettings } from "./settings.js";

export interface E2bRuntimeOptions {
  /** Where E2B may be (api_url, domain, sandbox_url); without it, internal addresses are refused. */
  egress?: EgressPolicy | undefined;
  /** This deployment's label on every sandbox (SANDBOX_DEPLOYMENT_LABEL). */
  deployment?: string | undefined;
  suspendTimeoutMs?: number | undefined;
}

/**
 * Agents in E2B sandboxes (runtime type `e2b`): the vendor-neutral SandboxRuntime over the
 * E2B provider. The provider is made per turn from the agent's own key (a reference
 * resolved for that turn); every request of the SDK, to E2B's API and to envd in the
 * sandbox, goes through the egress policy's checked tunnel.
 */
export class E2bRuntime extends SandboxRuntime<E2bSettings> {
  constructor(options: E2bRuntimeOptions = {}) {
    const egress = options.egress ?? new EgressPolicy();
    super({
      type: "e2b",
      vendorName: "E2B",
      settings: e2bSettings,
      deployment: options.deployment,
      suspendTimeoutMs: options.suspendTimeoutMs,
      provider: async (settings, secrets) =>
        new E2bSandboxProvider(
          {
            apiKey: await secrets(settings.api_key),
            apiUrl: settings.api_url,
            domain: settings.domain,
            sandboxUrl: settings.sandbox_url,
          },
          { egress, timeoutSeconds: settings.auto_stop_minutes * 60 },
        ),
    });
  }
}
