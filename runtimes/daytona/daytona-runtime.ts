import { Daytona } from "@daytonaio/sdk";
import { EgressPolicy } from "../egress/index.js";
import { unreachableError } from "../runtime-error.js";
import { SandboxRuntime } from "../sandbox/index.js";
import { DAYTONA } from "./daytona-errors.js";
import { DaytonaProvider } from "./daytona-provider.js";
import { EgressGuard } from "./egress-guard.js";
import { type DaytonaSettings, daytonaSettings } from "./settings.js";

/** How long one call to Daytona's API may take (creating and starting bound their own waits). */
const REQUEST_TIMEOUT_MS = 120_000;

export interface DaytonaRuntimeOptions {
  /** Where Daytona's API may be; without it, internal addresses are refused. */
  egress?: EgressPolicy | undefined;
  /** This deployment's label on every sandbox (SANDBOX_DEPLOYMENT_LABEL). */
  deployment?: string | undefined;
  suspendTimeoutMs?: number | undefined;
}

/**
 * Agents in Daytona sandboxes (runtime type `daytona`): the vendor-neutral SandboxRuntime
 * over the Daytona provider. The SDK client is made per turn from the agent's own key (a
 * reference resolved for that turn) and closed after; it is built without its event socket
 * (`useDeprecatedPolling`), so every call is a plain HTTP request held to the egress policy.
 */
export class DaytonaRuntime extends SandboxRuntime<DaytonaSettings> {
  constructor(options: DaytonaRuntimeOptions = {}) {
    const policy = options.egress ?? new EgressPolicy();
    super({
      type: "daytona",
      vendorName: DAYTONA,
      settings: daytonaSettings,
      deployment: options.deployment,
      suspendTimeoutMs: options.suspendTimeoutMs,
      provider: async (settings, secrets) => {
        const apiKey = await secrets(settings.api_key);
        const guard = new EgressGuard(policy);
        try {
          await guard.checkUrl(settings.api_url);
        } catch (error) {
          throw unreachableError(DAYTONA, error);
        }
        const client = new Daytona({
          apiKey,
          apiUrl: settings.api_url,
          ...(settings.target ? { target: settings.target } : {}),
          useDeprecatedPolling: true,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        });
        return new DaytonaProvider(client, guard, settings.api_url, apiKey);
      },
    });
  }
}
