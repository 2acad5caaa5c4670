/** Elastic Agent Builder: an agent made in Kibana, through its converse API. */
export { ElasticAgentBuilderRuntime } from "./elastic-agent-builder-runtime.js";
export {
  type ElasticAgentBuilderSettings,
  elasticAgentBuilderSettings,
} from "./settings.js";
