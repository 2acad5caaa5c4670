import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { buildCli, configSchema, loadConfig } from "../app/index.js";
import { OPENFGA_SERVER_SETTINGS } from "../authz/index.js";
import { repoPath } from "./support/compose-file.js";

/**
 * The Helm chart (deploy/helm/switchboard), checked by `helm lint` and by reading what
 * `helm template` renders: no cluster runs here. `.ci/run` installs helm from the Go module
 * proxy; where it is missing this file is skipped saying so (in CI that is a failure unless
 * .ci/run said it could not install it, HELM_SKIP).
 */

const CHART = repoPath("deploy/helm/switchboard");

function findHelm(): { path?: string; missing?: string } {
  if (process.env.HELM_SKIP) return { missing: process.env.HELM_SKIP };
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v helm"], { encoding: "utf8" }).trim());
  } catch {
    // not on PATH
  }
  try {
    const gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim();
    candidates.push(join(gopath, "bin", "helm"));
  } catch {
    // no Go toolchain
  }
  const path = candidates.find((candidate) => candidate && existsSync(candidate));
  if (path) return { path };
  const missing =
    "helm is not installed (go install helm.sh/helm/v4/cmd/helm@v4.3.2, as .ci/run does)";
  if (process.env.CI) throw new Error(missing);
  return { missing };
}

const helm = findHelm();
if (helm.missing) console.log(`skipped: the Helm chart: ${helm.missing}`);

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    type?: string;
    ports?: { port: number; targetPort: string }[];
    template?: {
      spec: {
        containers: Container[];
        initContainers?: Container[];
        securityContext?: { runAsNonRoot?: boolean };
      };
    };
  };
}

function helmRun(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helm.path as string, args, { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(...sets: string[]): Manifest[] {
  const result = helmRun(["template", "sb", CHART, ...sets.flatMap((s) => ["--set", s])]);
  expect(result.status, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest)
    .filter(Boolean);
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found;
}

function container(manifests: Manifest[], kind: string, name: string): Container {
  return find(manifests, kind, name).spec?.template?.spec.containers[0] as Container;
}

/**
 * What a Switchboard container's environment comes to: its ConfigMap's settings and its
 * literal values, with `$(POSTGRES_PASSWORD)` filled in as Kubernetes would from the Secret.
 */
function environment(manifests: Manifest[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of c.envFrom ?? []) {
    if (source.configMapRef)
      Object.assign(env, find(manifests, "ConfigMap", source.configMapRef.name).data);
  }
  for (const variable of c.env ?? []) {
    if (variable.value !== undefined)
      env[variable.name] = variable.value.replace("$(POSTGRES_PASSWORD)", "from-the-secret");
  }
  return env;
}

const SWITCHBOARD = [
  ["Deployment", "sb-switchboard-web"],
  ["Deployment", "sb-switchboard-worker"],
  ["Deployment", "sb-switchboard-proxy"],
] as const;

const SECRET_LIKE = /SECRET|TOKEN|PASSWORD|KEY(S)?$/;

describe.skipIf(!helm.path)("the Helm chart", { timeout: 120_000 }, () => {
  it("passes helm lint, with the in-chart parts and with external ones", () => {
    for (const sets of [
      [],
      [
        "postgresql.enabled=false",
        "redis.enabled=false",
        "openfga.enabled=false",
        "openfga.url=https://fga.internal",
        "oidc.issuerUrl=https://login.example.com",
        "oidc.clientId=switchboard",
        "ingress.enabled=true",
      ],
    ]) {
      const lint = helmRun(["lint", "--strict", CHART, ...sets.flatMap((s) => ["--set", s])]);
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
      expect(lint.stdout).toContain("0 chart(s) failed");
    }
  });

  it("runs web, worker and proxy from one image, as real subcommands, as a non-root user", () => {
    const manifests = render();
    const images = new Set<string>();
    for (const [kind, name] of SWITCHBOARD) {
      const deployment = find(manifests, kind, name);
      const c = container(manifests, kind, name);
      images.add(c.image);
      expect(deployment.spec?.template?.spec.securityContext?.runAsNonRoot, name).toBe(true);
      const [subcommand, ...args] = c.args ?? [];
      const command = buildCli().commands.find((cmd) => cmd.name() === subcommand);
      expect(command, `no subcommand ${subcommand}`).toBeDefined();
      const options = new Set(command?.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
      for (const arg of args.filter((a) => a.startsWith("-"))) expect(options).toContain(arg);
    }
    expect([...images]).toEqual(["switchboard:local"]);
  });

  it("gives every Switchboard process settings that pass the configuration schema", () => {
    for (const sets of [[], ["oidc.issuerUrl=https://login.example.com", "oidc.clientId=sb"]]) {
      const manifests = render(...sets);
      for (const [kind, name] of SWITCHBOARD) {
        const env = environment(manifests, container(manifests, kind, name));
        // POSTGRES_PASSWORD only carries the Secret's value into DATABASE_URL.
        const unknown = Object.keys(env).filter(
          (v) => v !== "POSTGRES_PASSWORD" && !(v in configSchema.shape),
        );
        expect(unknown, name).toEqual([]);
        expect(() => loadConfig(env, undefined), name).not.toThrow();
      }
    }
  });

  it("points each process at the Services of PostgreSQL, Redis, OpenFGA and the proxy", () => {
    const manifests = render();
    const servicePort = (name: string) => find(manifests, "Service", name).spec?.ports?.[0]?.port;
    for (const [kind, name] of SWITCHBOARD) {
      const config = loadConfig(
        environment(manifests, container(manifests, kind, name)),
        undefined,
      );
      const database = new URL(config.DATABASE_URL ?? "");
      expect(database.hostname, name).toBe("sb-switchboard-postgresql");
      expect(Number(database.port)).toBe(servicePort("sb-switchboard-postgresql"));
      const redis = new URL(config.REDIS_URL ?? "");
      expect(redis.hostname).toBe("sb-switchboard-redis");
      expect(Number(redis.port)).toBe(servicePort("sb-switchboard-redis"));
      const fga = new URL(config.OPENFGA_API_URL ?? "");
      expect(fga.hostname).toBe("sb-switchboard-openfga");
      expect(Number(fga.port)).toBe(servicePort("sb-switchboard-openfga"));
      const proxy = new URL(config.MODEL_PROXY_URL ?? "");
      expect(proxy.hostname).toBe("sb-switchboard-proxy");
      expect(Number(proxy.port)).toBe(servicePort("sb-switchboard-proxy"));
    }
    // Every Service reaches a container port of that name.
    for (const service of manifests.filter((m) => m.kind === "Service")) {
      const component = service.metadata.name.replace("sb-switchboard-", "");
      const workload = manifests.find(
        (m) =>
          (m.kind === "Deployment" || m.kind === "StatefulSet") &&
          m.metadata.name === service.metadata.name,
      );
      const ports = workload?.spec?.template?.spec.containers[0]?.ports?.map((p) => p.name);
      expect(ports, component).toContain(service.spec?.ports?.[0]?.targetPort);
    }
    const web = container(manifests, "Deployment", "sb-switchboard-web");
    const webEnv = environment(manifests, web);
    expect(web.ports?.[0]?.containerPort).toBe(Number(webEnv.PORT));
  });

  it("renders no secret: every secret setting comes from the Secret, none is a value", () => {
    const manifests = render(
      "oidc.issuerUrl=https://login.example.com",
      "oidc.clientId=sb",
      "ingress.enabled=true",
    );
    expect(manifests.filter((m) => m.kind === "Secret")).toEqual([]);
    for (const configMap of manifests.filter((m) => m.kind === "ConfigMap")) {
      for (const key of Object.keys(configMap.data ?? {})) expect(key).not.toMatch(SECRET_LIKE);
    }
    const containers = manifests.flatMap((m) => [
      ...(m.spec?.template?.spec.containers ?? []),
      ...(m.spec?.template?.spec.initContainers ?? []),
    ]);
    for (const c of containers) {
      for (const variable of c.env ?? []) {
        if (SECRET_LIKE.test(variable.name)) {
          expect(variable.value, `${c.name} ${variable.name}`).toBeUndefined();
          expect(variable.valueFrom?.secretKeyRef?.name).toBe("switchboard-secrets");
        }
        // Passwords inside URLs are filled in by Kubernetes from the Secret, never written.
        if (variable.value?.includes("@"))
          expect(variable.value).toContain("$(POSTGRES_PASSWORD)@");
      }
    }
    for (const [kind, name] of SWITCHBOARD) {
      const c = container(manifests, kind, name);
      expect(c.envFrom?.map((s) => s.secretRef?.name).filter(Boolean)).toEqual([
        "switchboard-secrets",
      ]);
    }
    // Web pods all sign cookies with one key: without it in the Secret they do not start.
    const web = container(manifests, "Deployment", "sb-switchboard-web");
    expect(web.env?.find((v) => v.name === "SESSION_SECRET")?.valueFrom?.secretKeyRef).toEqual({
      name: "switchboard-secrets",
      key: "SESSION_SECRET",
    });
  });

  it("keeps OpenFGA inside the cluster, opened only by the pre-shared key Switchboard sends", () => {
    const manifests = render();
    expect(find(manifests, "Service", "sb-switchboard-openfga").spec?.type).toBe("ClusterIP");
    const openfga = container(manifests, "Deployment", "sb-switchboard-openfga");
    const byName = new Map((openfga.env ?? []).map((v) => [v.name, v]));
    expect(byName.get("OPENFGA_AUTHN_METHOD")?.value).toBe("preshared");
    // The cache and list settings Switchboard expects, as docker compose sets them.
    for (const [name, value] of Object.entries(OPENFGA_SERVER_SETTINGS))
      expect(byName.get(name)?.value, name).toBe(value);
    expect(byName.get("OPENFGA_AUTHN_PRESHARED_KEYS")?.valueFrom?.secretKeyRef).toEqual({
      name: "switchboard-secrets",
      key: "OPENFGA_API_TOKEN",
    });
    // Switchboard reads the same key by its setting's name from the same Secret (envFrom).
    expect("OPENFGA_API_TOKEN" in configSchema.shape).toBe(true);
    const migrate = find(manifests, "Deployment", "sb-switchboard-openfga").spec?.template?.spec
      .initContainers?.[0];
    expect(migrate?.args).toEqual(["migrate"]);
    // Its database is made when PostgreSQL's volume is new, as compose's init script does.
    const init = find(manifests, "ConfigMap", "sb-switchboard-postgresql-init").data ?? {};
    expect(Object.values(init).join("\n")).toMatch(/CREATE DATABASE openfga/i);
    expect(readFileSync(repoPath("deploy/postgres-init.sql"), "utf8")).toMatch(
      /CREATE DATABASE openfga/i,
    );
  });

  it("routes the proxy as docker compose does", () => {
    const manifests = render();
    const config = find(manifests, "ConfigMap", "sb-switchboard-proxy").data?.["proxy.yaml"];
    expect(parse(config ?? "")).toEqual(parse(readFileSync(repoPath("deploy/proxy.yaml"), "utf8")));
    const compose = parse(readFileSync(repoPath("docker-compose.yml"), "utf8"));
    const fgaImage = container(manifests, "Deployment", "sb-switchboard-openfga").image;
    expect(fgaImage).toBe(compose.services.openfga.image);
  });

  it("leaves out the in-chart parts when external ones are named", () => {
    const manifests = render(
      "postgresql.enabled=false",
      "redis.enabled=false",
      "openfga.enabled=false",
      "openfga.url=https://fga.internal",
    );
    const names = manifests.map((m) => m.metadata.name);
    for (const part of ["postgresql", "redis", "openfga"])
      expect(names).not.toContain(`sb-switchboard-${part}`);
    const env = environment(manifests, container(manifests, "Deployment", "sb-switchboard-web"));
    expect(env.OPENFGA_API_URL).toBe("https://fga.internal");
    // DATABASE_URL and REDIS_URL hold passwords: they come from the Secret.
    expect(env).not.toHaveProperty("DATABASE_URL");
    expect(env).not.toHaveProperty("REDIS_URL");
  });

  it("refuses OpenFGA in the chart without the chart's PostgreSQL, saying what to set", () => {
    const result = helmRun(["template", "sb", CHART, "--set", "postgresql.enabled=false"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "openfga.enabled keeps OpenFGA's store in the in-chart PostgreSQL",
    );
  });
});
