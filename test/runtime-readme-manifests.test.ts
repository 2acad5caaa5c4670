import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runtimeSettingsCheck } from "../app/runs.js";
import { parseManifestText } from "../directory/manifest/load-files.js";

/** Every whole manifest a runtime's README shows must pass `switchboard agents validate`. */
const readmes = readdirSync("runtimes", { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join("runtimes", entry.name, "README.md"))
  .filter((path) => {
    try {
      return readFileSync(path, "utf8").includes("kind: Agent");
    } catch {
      return false;
    }
  });

describe("manifests in the runtimes' READMEs", () => {
  it.each(readmes)("%s: its manifest is valid, runtime settings included", (path) => {
    const blocks = [...readFileSync(path, "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((match) => match[1] as string)
      .filter((block) => block.includes("kind: Agent"));
    expect(blocks.length).toBeGreaterThan(0);
    const check = runtimeSettingsCheck({ RUNTIME_ENV_ALLOWLIST: [] });
    for (const block of blocks) {
      const loaded = parseManifestText(block, path, check);
      expect(loaded.problems).toEqual([]);
      expect(loaded.manifests).toHaveLength(1);
    }
  });
});
