import { validateManifest } from "../manifest/index.js";
import type { AgentRegistry } from "./agent-registry.js";

/**
 * A built-in agent so a newcomer's catalog is not empty on the embedded default, and their
 * first run needs no credentials: its runtime, `demo`, runs in-process (runtimes/demo).
 */
export const DEMO_MANIFEST = {
  apiVersion: "switchboard/v1",
  kind: "Agent",
  metadata: {
    name: "demo",
    title: "Demo agent",
    description:
      "A built-in agent that answers without any credentials, so you can try Switchboard before registering your own: ask it for help, or say anything and it repeats it with the turn number. Register yours with `switchboard agents apply`.",
    owner: "team:switchboard",
    tags: ["demo", "getting-started"],
    lifecycle: "experimental",
    icon: "👋",
  },
  spec: {
    runtime: { type: "demo" },
    skills: [
      {
        name: "echo",
        description: "Answers with what you sent, to show how a run looks.",
        examples: ["Hello, Switchboard!"],
      },
    ],
    access: { view: ["user:*"], run: ["user:*"] },
  },
} as const;

/**
 * Registers the demo agent the first time only: once it exists (even retired, by someone who
 * did not want it), it is left alone. Resolves to whether it was created. It is featured, so
 * `@agents demo hello` runs it for a newcomer (in chat, naming an agent picks it only among
 * the person's own or featured ones).
 */
export async function ensureDemoAgent(registry: AgentRegistry): Promise<boolean> {
  if (await registry.find(DEMO_MANIFEST.metadata.name, { retired: true })) return false;
  const bootstrap = { actor: "system:bootstrap" };
  await registry.apply(validateManifest(DEMO_MANIFEST), bootstrap);
  await registry.setFeatured(DEMO_MANIFEST.metadata.name, true, bootstrap);
  return true;
}
