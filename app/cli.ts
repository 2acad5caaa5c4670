import { Command } from "commander";
import { ProxyConfigError } from "../proxy/index.js";
import {
  agentsApply,
  agentsList,
  agentsSetFeatured,
  agentsSetState,
  agentsShow,
  agentsValidate,
} from "./commands/agents.js";
import { authzCheck, authzGrant, authzList, authzTest } from "./commands/authz.js";
import { budgetsDelete, budgetsList, budgetsSet } from "./commands/budgets.js";
import { keysCreate, keysList, keysRevoke } from "./commands/keys.js";
import { migrate } from "./commands/migrate.js";
import { proxy } from "./commands/proxy.js";
import {
  readValueFromStdin,
  secretsDelete,
  secretsGrant,
  secretsList,
  secretsRotate,
  secretsSet,
} from "./commands/secrets.js";
import { serve } from "./commands/serve.js";
import { sessionsList, sessionsRevoke } from "./commands/sessions.js";
import { teamsPackage } from "./commands/teams.js";
import { worker } from "./commands/worker.js";
import { type Config, ConfigError, loadConfig } from "./config/index.js";

/**
 * The `switchboard` command. Each subcommand reads the configuration once, with its own
 * flags taking the place of the matching variables, and validates it before doing anything.
 */

function configWith(program: Command, overrides: Record<string, string | undefined>): Config {
  const { configFile } = program.opts<{ configFile?: string }>();
  const env = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  return loadConfig(env, configFile ?? env.SWITCHBOARD_CONFIG_FILE);
}

export function buildCli(): Command {
  const program = new Command("switchboard")
    .description("Find, run and govern a company's AI agents, whatever runtime each lives on.")
    .option(
      "--config-file <path>",
      "YAML or JSON file of settings (VARIABLE: value); the environment wins over it",
    )
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("serve")
    .description(
      "Run the HTTP server: directory site, REST API, Slack and Teams endpoints. Without REDIS_URL it also runs the worker in-process.",
    )
    .option("-p, --port <port>", "port to listen on (overrides PORT)")
    .option("--host <host>", "address to bind (overrides HOST)")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .option(
      "--proxy-config <file>",
      "also run the model proxy in this process, with this routing config",
    )
    .option("--proxy-port <port>", "port of the in-process model proxy", "4000")
    .action(
      async (options: {
        port?: string;
        host?: string;
        migrate: boolean;
        proxyConfig?: string;
        proxyPort: string;
      }) => {
        const config = configWith(program, { PORT: options.port, HOST: options.host });
        const proxyPort = configWith(program, { PORT: options.proxyPort }).PORT;
        await serve(config, {
          migrate: options.migrate,
          proxyConfigFile: options.proxyConfig,
          proxyPort,
        });
      },
    );

  program
    .command("worker")
    .description(
      "Run queued agent runs from Redis (REDIS_URL) in a process of its own; start as many as load needs.",
    )
    .option("-p, --port <port>", "serve /healthz, /readyz and /metrics on this port")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .action(async (options: { port?: string; migrate: boolean }) => {
      const config = configWith(program, {});
      const port =
        options.port === undefined ? undefined : configWith(program, { PORT: options.port }).PORT;
      await worker(config, { migrate: options.migrate, port });
    });

  program
    .command("proxy")
    .description(
      "Run the model proxy: an OpenAI- and Anthropic-compatible gateway for the model calls agents make.",
    )
    .requiredOption("--config <file>", "routing configuration (LiteLLM-style config.yaml)")
    .option("-p, --port <port>", "port to listen on", "4000")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .action(async (options: { config: string; port: string; migrate: boolean }) => {
      const config = configWith(program, {});
      const port = configWith(program, { PORT: options.port }).PORT;
      await proxy(config, { configFile: options.config, port, migrate: options.migrate });
    });

  program
    .command("migrate")
    .description("Apply (up), revert (down) or list (status) database migrations.")
    .argument("[direction]", "up, down or status", "up")
    .option("--all", "with down: revert every migration, not just the last batch", false)
    .action(async (direction: string, options: { all: boolean }) => {
      if (direction !== "up" && direction !== "down" && direction !== "status") {
        program.error(
          `switchboard migrate: unknown direction "${direction}"; use up, down or status.`,
          {
            exitCode: 2,
          },
        );
      }
      await migrate(configWith(program, {}), direction as "up" | "down" | "status", options);
    });

  const authz = program
    .command("authz")
    .description("Test the authorization policy, and grant, revoke, check and list access.");
  authz
    .command("test")
    .description(
      "Run OpenFGA conformance files or store test files (.fga.yaml) against the configured backend; ends with `N passed, N failed`.",
    )
    .argument("<file...>", "files to run")
    .action(async (files: string[]) => {
      const failed = await authzTest(configWith(program, {}), files);
      if (failed > 0) process.exitCode = 1;
    });
  for (const change of ["grant", "revoke"] as const) {
    authz
      .command(change)
      .description(
        `${change === "grant" ? "Grant" : "Revoke"} a relation: e.g. ${change} ada@example.com runner agent:triage`,
      )
      .argument("<user>", "an email, or a subject such as team:platform#member or user:*")
      .argument("<relation>", "e.g. viewer, runner, editor, owner, member, admin")
      .argument("<object>", "e.g. agent:triage or team:platform")
      .action(async (user: string, relation: string, object: string) => {
        await authzGrant(configWith(program, {}), change, { user, relation, object });
      });
  }
  authz
    .command("check")
    .description(
      "Print allowed or denied (exit status 0 or 1): e.g. check ada@example.com runner agent:triage",
    )
    .argument("<user>", "an email, or a subject such as user:*")
    .argument("<relation>", "the relation to check")
    .argument("<object>", "e.g. agent:triage")
    .action(async (user: string, relation: string, object: string) => {
      if (!(await authzCheck(configWith(program, {}), { user, relation, object })))
        process.exitCode = 1;
    });
  authz
    .command("list")
    .description(
      "List the objects of a type on which a user has a relation: e.g. list ada@example.com runner agent",
    )
    .argument("<user>", "an email, or a subject")
    .argument("<relation>", "the relation")
    .argument("<type>", "the object type, e.g. agent")
    .action(async (user: string, relation: string, type: string) => {
      await authzList(configWith(program, {}), { user, relation, type });
    });

  addDirectoryCommands(program);
  addSecretCommands(program);
  program
    .command("teams")
    .description("The Microsoft Teams app")
    .command("package")
    .description(
      "Write the Teams app package (manifest and icons) for TEAMS_APP_ID and PUBLIC_URL, to upload in Teams admin",
    )
    .requiredOption("--out <file>", "the .zip to write")
    .action((options: { out: string }) => {
      const code = teamsPackage(configWith(program, {}), options.out);
      if (code !== 0) process.exitCode = code;
    });
  return program;
}

/** `switchboard agents …`, `switchboard keys …` and `switchboard sessions …`: the directory, as its operator. */
function addDirectoryCommands(program: Command): void {
  const exitWith = (code: number) => {
    if (code !== 0) process.exitCode = code;
  };
  const agents = program
    .command("agents")
    .description("Register agents from manifests, and list, show, suspend or disable them.");
  agents
    .command("apply")
    .description(
      "Create or update agents from manifest files or folders; prints what changed. Nothing is applied if any manifest is invalid.",
    )
    .argument("<path...>", "manifest files (.yaml, .yml, .json) or folders of them")
    .option("--prune", "retire agents that are not in these files", false)
    .option("--dry-run", "say what would change, change nothing", false)
    .action(async (paths: string[], options: { prune: boolean; dryRun: boolean }) => {
      exitWith(await agentsApply(configWith(program, {}), paths, options));
    });
  agents
    .command("validate")
    .description("Check manifests without applying them; problems name the file, line and field.")
    .argument("<path...>", "manifest files or folders")
    .action(async (paths: string[]) => {
      exitWith(await agentsValidate(configWith(program, {}), paths));
    });
  agents
    .command("list")
    .description("List every registered agent, whatever its state.")
    .option("--search <text>", "only agents whose name, title, description or tags match")
    .action(async (options: { search?: string }) => {
      exitWith(await agentsList(configWith(program, {}), options));
    });
  agents
    .command("show")
    .description("Print an agent's state and manifest.")
    .argument("<name>", "the agent's name")
    .action(async (name: string) => {
      exitWith(await agentsShow(configWith(program, {}), name));
    });
  for (const [verb, state, what] of [
    ["enable", "enabled", "Let people find and run an agent again."],
    ["suspend", "suspended", "Keep an agent listed, with a notice, but stop it from running."],
    ["disable", "disabled", "Take an agent out of the catalog and stop it from running."],
  ] as const) {
    agents
      .command(verb)
      .description(what)
      .argument("<name>", "the agent's name")
      .option("--reason <text>", "shown to people who find the agent")
      .action(async (name: string, options: { reason?: string }) => {
        exitWith(await agentsSetState(configWith(program, {}), name, state, options.reason));
      });
  }
  for (const [verb, featured, what] of [
    [
      "feature",
      true,
      "Offer agents to everyone who may run them: in chat, naming one picks it, as for agents a person already uses.",
    ],
    ["unfeature", false, "Stop featuring agents."],
  ] as const) {
    agents
      .command(verb)
      .description(what)
      .argument("<name...>", "the agents' names")
      .action(async (names: string[]) => {
        exitWith(await agentsSetFeatured(configWith(program, {}), names, featured));
      });
  }

  const keys = program.command("keys").description("Make, list and revoke REST API keys.");
  keys
    .command("create")
    .description(
      "Make an API key acting as a user; the key is printed once, alone on the last line.",
    )
    .requiredOption("--user <email>", "the person the key acts as")
    .option("--name <label>", "a label to tell keys apart")
    .action(async (options: { user: string; name?: string }) => {
      exitWith(await keysCreate(configWith(program, {}), options));
    });
  keys
    .command("list")
    .description("List API keys (never the keys themselves).")
    .action(async () => {
      exitWith(await keysList(configWith(program, {})));
    });
  keys
    .command("revoke")
    .description("Revoke an API key by its id; requests with it are refused from then on.")
    .argument("<id>", "the key's id, from keys list")
    .action(async (id: string) => {
      exitWith(await keysRevoke(configWith(program, {}), id));
    });

  const budgets = program
    .command("budgets")
    .description("Set, list and delete budgets (hard, approval or notify), as the operator.");
  budgets
    .command("set")
    .description(
      "Set the budget of a scope for a period (again: replace its amount and mode). Audited.",
    )
    .argument("<scope>", "team:SLUG, agent:NAME, user:EMAIL or platform")
    .requiredOption("--period <period>", "day, week or month (UTC), or none")
    .requiredOption("--amount <usd>", "the amount in US dollars")
    .requiredOption(
      "--mode <mode>",
      "hard (refuse runs over it), approval (an approver decides) or notify (warn)",
    )
    .option("--thresholds <percents>", "notify: percentages to warn at, e.g. 50,80,100")
    .action(
      async (
        scope: string,
        options: { period: string; amount: string; mode: string; thresholds?: string },
      ) => {
        exitWith(await budgetsSet(configWith(program, {}), scope, options));
      },
    );
  budgets
    .command("list")
    .description("List budgets with what is spent and held by runs in progress this period.")
    .action(async () => {
      exitWith(await budgetsList(configWith(program, {})));
    });
  budgets
    .command("delete")
    .description("Delete a budget by its id. Audited.")
    .argument("<id>", "the budget's id, from budgets list")
    .action(async (id: string) => {
      exitWith(await budgetsDelete(configWith(program, {}), id));
    });

  const sessions = program
    .command("sessions")
    .description("List and end people's signed-in sessions on the directory site.");
  sessions
    .command("list")
    .description("List signed-in sessions, most recently seen first (never their tokens).")
    .option("--user <email>", "only this person's sessions")
    .action(async (options: { user?: string }) => {
      exitWith(await sessionsList(configWith(program, {}), options));
    });
  sessions
    .command("revoke")
    .description(
      "End a session by its id, or every session of --user: the browser is signed out at its next request. Audited.",
    )
    .argument("[id]", "the session's id, from sessions list")
    .option("--user <email>", "end every session of this person")
    .action(async (id: string | undefined, options: { user?: string }) => {
      exitWith(await sessionsRevoke(configWith(program, {}), { id, user: options.user }));
    });
}

/** `switchboard secrets …`: the secret store, as its operator. */
function addSecretCommands(program: Command): void {
  const exitWith = (code: number) => {
    if (code !== 0) process.exitCode = code;
  };
  const secrets = program
    .command("secrets")
    .description(
      "Keep agents' credentials in the encrypted secret store, grant them to agents, rotate its keys.",
    );
  secrets
    .command("set")
    .description(
      "Create a secret or give it a new value, read from stdin (never from the command line): e.g. `switchboard secrets set triage-key --owner team:support < key.txt`.",
    )
    .argument("<name>", "the secret's name, as manifests refer to it: { secret: NAME }")
    .option("--owner <owner>", "user:EMAIL or team:SLUG (required to create)")
    .option("--description <text>", "what the secret is for")
    .action(async (name: string, options: { owner?: string; description?: string }) => {
      exitWith(
        await secretsSet(configWith(program, {}), name, options, () => readValueFromStdin()),
      );
    });
  secrets
    .command("list")
    .description("List every secret: name, owner, version, key and agents (never the values).")
    .action(async () => {
      exitWith(await secretsList(configWith(program, {})));
    });
  for (const change of ["grant", "revoke"] as const) {
    secrets
      .command(change)
      .description(
        change === "grant"
          ? "Let an agent's runs use a secret."
          : "Stop an agent's runs from using a secret, from their next runtime call.",
      )
      .argument("<name>", "the secret")
      .argument("<agent>", "the agent's name")
      .action(async (name: string, agent: string) => {
        exitWith(await secretsGrant(configWith(program, {}), change, name, agent));
      });
  }
  secrets
    .command("delete")
    .description("Delete a secret and every grant of it.")
    .argument("<name>", "the secret")
    .action(async (name: string) => {
      exitWith(await secretsDelete(configWith(program, {}), name));
    });
  secrets
    .command("rotate")
    .description(
      "Re-wrap every data key under the first key of SECRETS_KEYS; safe while Switchboard runs, and again.",
    )
    .option("--batch-size <n>", "secrets re-wrapped per batch", "100")
    .action(async (options: { batchSize: string }) => {
      const batchSize = Number(options.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        program.error(
          "switchboard secrets rotate: --batch-size must be a whole number, 1 or more.",
          {
            exitCode: 2,
          },
        );
      }
      exitWith(await secretsRotate(configWith(program, {}), { batchSize }));
    });
}

/** Runs the CLI; a bad setting exits 2 with the message naming it, any other failure exits 1. */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ProxyConfigError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `switchboard: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (process.env.LOG_LEVEL === "debug" && error instanceof Error)
      process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  }
}
