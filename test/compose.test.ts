import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildCli, configSchema, loadConfig } from "../app/index.js";
import { OPENFGA_SERVER_SETTINGS } from "../authz/index.js";
import {
  compose,
  environmentOf,
  mountedFile,
  optionValue,
  repoPath,
  type Service,
} from "./support/compose-file.js";

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are kept right by
 * reading them: every Switchboard service's environment must pass the configuration
 * schema, and the ports and service names must line up.
 */

const root = repoPath;
const switchboardServices = Object.entries(compose.services).filter(([, s]) => s.build === ".");
const SWITCHBOARD_SERVICES = ["web", "worker", "proxy"];

/** Provider keys a proxy config reads with `os.environ/NAME`. */
function proxyConfigVariables(service: Service): Set<string> {
  const names = new Set<string>();
  for (const volume of service.volumes ?? []) {
    const [source] = volume.split(":");
    if (!source?.startsWith("./")) continue;
    for (const match of readFileSync(root(source), "utf8").matchAll(/os\.environ\/(\w+)/g))
      names.add(match[1] as string);
  }
  return names;
}

function containerPort(mapping: string): number {
  return Number(mapping.split(":").at(-1));
}

describe("docker-compose.yml", () => {
  it("builds web, worker and proxy from the one Dockerfile", () => {
    expect(switchboardServices.map(([name]) => name).sort()).toEqual(SWITCHBOARD_SERVICES.sort());
  });

  it.each(SWITCHBOARD_SERVICES)(
    "%s: every variable is a setting and every value passes the schema",
    (name) => {
      const service = compose.services[name] as Service;
      const env = environmentOf(service);
      const known = new Set([...Object.keys(configSchema.shape), ...proxyConfigVariables(service)]);
      const unknown = Object.keys(env).filter((variable) => !known.has(variable));
      expect(unknown).toEqual([]);
      expect(() => loadConfig(env, undefined)).not.toThrow();
    },
  );

  it.each(SWITCHBOARD_SERVICES)("%s: runs a real subcommand with options it has", (name) => {
    const [subcommand, ...args] = compose.services[name]?.command ?? [];
    const command = buildCli().commands.find((c) => c.name() === subcommand);
    expect(command, `no subcommand ${subcommand}`).toBeDefined();
    const options = new Set(command?.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
    for (const arg of args.filter((a) => a.startsWith("-"))) expect(options).toContain(arg);
  });

  it("publishes each Switchboard process on the port it listens on", () => {
    const web = compose.services.web as Service;
    const webPort = loadConfig(environmentOf(web), undefined).PORT;
    // The oidc service lives in web's network namespace, so web publishes its port too.
    const oidcPort = Number(compose.services.oidc?.environment?.PORT);
    expect(web.ports?.map(containerPort)).toEqual([webPort, oidcPort]);
    const proxy = compose.services.proxy as Service;
    expect(proxy.ports?.map(containerPort)).toEqual([
      Number(optionValue(proxy.command ?? [], "--port")),
    ]);
    for (const [, service] of switchboardServices) {
      expect(loadConfig(environmentOf(service), undefined).HOST).toBe("0.0.0.0");
    }
  });

  it("points DATABASE_URL, REDIS_URL and OPENFGA_API_URL at the services that serve them", () => {
    const postgres = compose.services.postgres as Service;
    const openfga = compose.services.openfga as Service;
    for (const [name, service] of switchboardServices) {
      const config = loadConfig(environmentOf(service), undefined);
      const database = new URL(config.DATABASE_URL ?? "");
      expect(database.hostname, name).toBe("postgres");
      expect(Number(database.port || 5432)).toBe(5432);
      expect(database.username).toBe(postgres.environment?.POSTGRES_USER);
      expect(database.password).toBe(postgres.environment?.POSTGRES_PASSWORD);
      expect(database.pathname).toBe(`/${postgres.environment?.POSTGRES_DB}`);

      const redis = new URL(config.REDIS_URL ?? "");
      expect(redis.hostname).toBe("redis");
      expect(Number(redis.port || 6379)).toBe(6379);

      const fga = new URL(config.OPENFGA_API_URL ?? "");
      expect(fga.hostname).toBe("openfga");
      expect(openfga.environment?.OPENFGA_HTTP_ADDR).toBe(`0.0.0.0:${fga.port}`);
      for (const dependency of ["postgres", "redis", "openfga"])
        expect(service.depends_on).toHaveProperty(dependency);
    }
  });

  it("publishes ports on the host's loopback only, while the demo user's password is public", () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const mapping of published) expect(mapping).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it("keeps OpenFGA off the host: only the compose network reaches its API", () => {
    expect(compose.services.openfga?.ports).toBeUndefined();
    expect(compose.services["openfga-migrate"]?.ports).toBeUndefined();
  });

  it("signs people in with the oidc service, whose issuer web reaches on its own localhost", () => {
    const web = compose.services.web as Service;
    const oidc = compose.services.oidc as Service;
    const config = loadConfig(environmentOf(web), undefined);
    expect(oidc.network_mode).toBe("service:web");
    expect(oidc.depends_on).toHaveProperty("web");
    // The example server's issuer is http://localhost:PORT/, exactly (discovery checks it).
    expect(config.OIDC_ISSUER_URL).toBe(`http://localhost:${oidc.environment?.PORT}/`);
    // Its one confidential web client is "web" with the secret "secret" (fixed in its code).
    expect(config.OIDC_CLIENT_ID).toBe("web");
    expect(config.OIDC_CLIENT_SECRET).toBe("secret");
    expect(oidc.environment?.REDIRECT_URI).toBe(`${config.PUBLIC_URL}/auth/callback`);
    const users = JSON.parse(
      readFileSync(mountedFile(oidc, oidc.environment?.USERS_FILE ?? ""), "utf8"),
    );
    const demo = Object.values(users)[0] as { Username: string; Password: string; Email: string };
    expect(demo.Email).toBe("demo@example.com");
    expect(config.SWITCHBOARD_ADMINS).toEqual([demo.Email]);
    // The README tells people how to sign in.
    const readme = readFileSync(root("README.md"), "utf8");
    expect(readme).toContain(demo.Username);
    expect(readme).toContain(demo.Password);
  });

  it("hands agents the proxy's address and gives the proxy a master key setting", () => {
    const proxy = compose.services.proxy as Service;
    const port = optionValue(proxy.command ?? [], "--port");
    for (const [name, service] of switchboardServices) {
      const config = loadConfig(environmentOf(service), undefined);
      expect(config.MODEL_PROXY_URL, name).toBe(`http://proxy:${port}`);
    }
    expect(proxyConfigVariables(proxy)).toContain("PROXY_MASTER_KEY");
    expect(proxy.environment).toHaveProperty("PROXY_MASTER_KEY");
  });

  it("gives OpenFGA a Postgres datastore, migrated before it runs", () => {
    const openfga = compose.services.openfga as Service;
    const migrate = compose.services["openfga-migrate"] as Service;
    expect(migrate.command).toEqual(["migrate"]);
    expect(openfga.depends_on).toEqual({
      "openfga-migrate": { condition: "service_completed_successfully" },
    });
    for (const service of [openfga, migrate]) {
      expect(service.environment?.OPENFGA_DATASTORE_ENGINE).toBe("postgres");
      const uri = new URL(service.environment?.OPENFGA_DATASTORE_URI ?? "");
      expect(uri.hostname).toBe("postgres");
    }
    // The openfga database is made by the init script mounted into postgres.
    const init = (compose.services.postgres?.volumes ?? []).find((v) =>
      v.includes("docker-entrypoint-initdb.d"),
    );
    const source = init?.split(":")[0] ?? "";
    expect(readFileSync(root(source), "utf8")).toMatch(/CREATE DATABASE openfga/i);
  });

  it("runs OpenFGA with the cache and list settings Switchboard expects", () => {
    const environment = (compose.services.openfga as Service).environment ?? {};
    for (const [name, value] of Object.entries(OPENFGA_SERVER_SETTINGS))
      expect(String(environment[name]), name).toBe(value);
  });

  it("depends only on services it defines and mounts only files that exist", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(compose.services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        if (source.startsWith("./"))
          expect(existsSync(root(source)), `${name} mounts ${source}`).toBe(true);
      }
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(root("Dockerfile"), "utf8");

  it("is multi-stage on a slim Node 22 or 24 image and runs as a non-root user", () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThan(1);
    for (const image of stages.filter((s) => s?.startsWith("node")))
      expect(image).toMatch(/^node:(22|24)-slim$/);
    const user = [...dockerfile.matchAll(/^USER (\S+)/gm)].at(-1)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toBe("root");
  });

  it("starts the compiled CLI that `npm run build` produces", () => {
    expect(dockerfile).toContain("RUN npm run build");
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/app\/main\.js"\]/);
    const build = JSON.parse(readFileSync(root("tsconfig.build.json"), "utf8"));
    expect(build.compilerOptions.outDir).toBe("dist");
    expect(build.include).toContain("app");
    expect(existsSync(root("app/main.ts"))).toBe(true);
  });
});
