/** How much agents are used and what they cost, for the directory site: read-only queries. */
export {
  AgentUsage,
  type AgentUsageReport,
  type DailyUsage,
  type UsageBreakdown,
  type UsageWindow,
} from "./agent-usage.js";
