import { type AgentTracer, OtlpAgentTracer, OtlpTraceExporter } from "../governance/index.js";
import type { Config } from "./config/index.js";
import type { ProcessBase } from "./context.js";

/**
 * The process's tracer when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none. Open it before
 * the parts that make spans (the runs engine, the model proxy): the lifecycle stops parts in
 * reverse, so the exporter sends their last spans after they stop.
 */
export function openTracer(config: Config, base: ProcessBase): AgentTracer | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const exporter = new OtlpTraceExporter({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    // One service: a run and the proxy calls it made are one trace, whichever process served them.
    serviceName: "switchboard",
    logger: base.logger.child({ module: "tracing" }),
  });
  base.lifecycle.onStop("trace export", () => exporter.close());
  return new OtlpAgentTracer(exporter);
}
