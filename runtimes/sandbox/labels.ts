/** The labels (Daytona) or metadata (E2B) Switchboard puts on every sandbox it creates. */
export const LABELS = {
  /** Which Switchboard deployment made it (SANDBOX_DEPLOYMENT_LABEL): the sweeper touches only its own. */
  deployment: "switchboard.deployment",
  agent: "switchboard.agent",
  session: "switchboard.session",
} as const;

export function sandboxLabels(deployment: string, agentId: string, sessionId: string) {
  return {
    [LABELS.deployment]: deployment,
    [LABELS.agent]: agentId,
    [LABELS.session]: sessionId,
  };
}
