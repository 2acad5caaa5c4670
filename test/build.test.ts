import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
// Inside the project, so the compiled code finds node_modules as the container's does.
const outDir = fileURLToPath(new URL("../test-output/build", import.meta.url));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("the production build (what the container runs)", () => {
  it("compiles, and its CLI starts without tsx", async () => {
    await run(
      process.execPath,
      [
        fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        outDir,
      ],
      { cwd: root },
    );
    await run(process.execPath, ["scripts/copy-assets.mjs", outDir], { cwd: root });
    const { stdout } = await run(process.execPath, [`${outDir}/app/main.js`, "--help"], {
      cwd: root,
    });
    expect(stdout).toContain("Usage: switchboard");
    for (const command of [
      "serve",
      "worker",
      "proxy",
      "migrate",
      "authz",
      "agents",
      "keys",
      "sessions",
    ])
      expect(stdout).toContain(command);
    // The site's stylesheet and script are read at run time too.
    expect(existsSync(`${outDir}/directory/site/assets/site.css`)).toBe(true);
    // The policy model is read at run time: the build must carry it.
    const checked = await run(
      process.execPath,
      [`${outDir}/app/main.js`, "authz", "test", "authz/model.fga.yaml"],
      {
        cwd: root,
        env: { ...process.env, SWITCHBOARD_DATA_DIR: `${outDir}/data`, LOG_LEVEL: "warn" },
      },
    );
    expect(checked.stdout.trim().split("\n").at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  }, 120_000);
});
