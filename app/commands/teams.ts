import { writeFileSync } from "node:fs";
import { teamsAppPackage } from "../../bot/index.js";
import { type Config, ConfigError } from "../config/index.js";

type Print = (line: string) => void;

/**
 * `switchboard teams package --out FILE.zip`: the Teams app package (manifest and icons) for
 * this deployment's bot (TEAMS_APP_ID) and site (PUBLIC_URL), to upload in Teams admin.
 */
export function teamsPackage(config: Config, out: string, print: Print = console.log): number {
  const problems: { variable: string; problem: string }[] = [];
  if (!config.TEAMS_APP_ID) {
    problems.push({ variable: "TEAMS_APP_ID", problem: "is required: the package names the bot" });
  }
  if (!config.PUBLIC_URL) {
    problems.push({
      variable: "PUBLIC_URL",
      problem: "is required: Teams unfurls and trusts links to the site's address",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const zip = teamsAppPackage({
    appId: config.TEAMS_APP_ID as string,
    publicUrl: config.PUBLIC_URL as string,
  });
  writeFileSync(out, zip);
  print(`Wrote the Teams app package to ${out}: upload it in Teams admin (Manage apps > Upload).`);
  return 0;
}
