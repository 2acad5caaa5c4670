import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { type Config, type ConfigVariable, configSchema } from "./schema.js";

/** A setting had a value Switchboard cannot use; the message names each one. */
export class ConfigError extends Error {
  readonly variables: string[];

  constructor(problems: { variable: string; problem: string }[]) {
    const lines = problems.map(({ variable, problem }) => `  ${variable}: ${problem}`);
    super(`Invalid configuration:\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.variables = problems.map((p) => p.variable);
  }
}

const known = new Set<string>(Object.keys(configSchema.shape));
const SECRET_SETTING = /SECRET|TOKEN|PASSWORD|_KEY/;
/** The password of a URL, `scheme://user:password@host`, parsed or not. */
const URL_PASSWORD = /(\/\/[^/@:]*:)[^@/]*@/;

/**
 * A value as an error message may repeat it (these go to terminals and logs): a secret's not
 * at all, a URL's without its password (DATABASE_URL, REDIS_URL may carry one).
 */
function shownValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined || SECRET_SETTING.test(variable)) return undefined;
  return value.replace(URL_PASSWORD, "$1***@");
}

/**
 * Reads a config file: YAML or JSON, a flat map from variable name to value, e.g.
 * `PORT: 8080`. Unknown names are an error (a typo would otherwise be silently ignored).
 */
function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([
      {
        variable: "SWITCHBOARD_CONFIG_FILE",
        problem: `cannot read ${path} (${(error as Error).message})`,
      },
    ]);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError([
      { variable: "SWITCHBOARD_CONFIG_FILE", problem: `${path} must be a map of VARIABLE: value` },
    ]);
  }
  const values: Record<string, string> = {};
  const unknown: { variable: string; problem: string }[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) unknown.push({ variable: key, problem: `is not a setting (in ${path})` });
    else if (value !== null && value !== undefined) values[key] = String(value);
  }
  if (unknown.length > 0) throw new ConfigError(unknown);
  return values;
}

/**
 * Reads and validates the configuration once, at start-up: the config file first (named by
 * `configFile` or SWITCHBOARD_CONFIG_FILE), then the environment, which wins. An empty
 * variable counts as unset.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  configFile: string | undefined = env.SWITCHBOARD_CONFIG_FILE || undefined,
): Config {
  const raw: Record<string, string> = configFile ? readConfigFile(configFile) : {};
  for (const name of known) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[name] = value;
  }
  for (const [name, value] of Object.entries(raw)) {
    if (value.trim() === "") delete raw[name];
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  // One line per variable: a list setting can fail once per element with the same message.
  const problems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0] ?? "configuration") as ConfigVariable;
    const got = shownValue(variable, raw[variable]);
    if (!problems.has(variable)) {
      problems.set(variable, got === undefined ? issue.message : `${issue.message} (got "${got}")`);
    }
  }
  throw new ConfigError([...problems].map(([variable, problem]) => ({ variable, problem })));
}
