/** Traces of agent work (runs, model calls) over OTLP/HTTP, after the GenAI semantic conventions. */
export {
  type AgentTracer,
  type ModelCallTrace,
  modelCallSpan,
  OtlpAgentTracer,
  type RunTrace,
  runSpan,
} from "./genai-spans.js";
export { type OtlpExporterOptions, OtlpTraceExporter, tracesUrl } from "./otlp-exporter.js";
export { type FinishedSpan, otlpSpan, runSpanId, spanIdOf, traceIdOfRun } from "./otlp-span.js";
