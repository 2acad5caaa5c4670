import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/**
 * docker-compose.yml as the tests read it: no Docker engine runs here, so one test checks
 * the file and another runs its configuration as processes. Both read the values from here,
 * so neither can drift from the file.
 */

export const repoPath = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  network_mode?: string;
}

export const compose = parse(readFileSync(repoPath("docker-compose.yml"), "utf8"), {
  merge: true,
}) as { services: Record<string, Service> };

export function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** `${NAME:-default}` → default: what compose substitutes with the variable unset. */
export function substitute(value: string): string {
  return String(value).replace(
    /\$\{(\w+)(?::?-([^}]*))?\}/g,
    (_m, _name, fallback) => fallback ?? "",
  );
}

/** A service's environment as compose gives it with none of the shell's variables set. */
export function environmentOf(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, substitute(v)]),
  );
}

export function optionValue(command: string[], option: string): string | undefined {
  const at = command.indexOf(option);
  return at === -1 ? undefined : command[at + 1];
}

/** The file in this repository that `service` mounts at `containerPath`. */
export function mountedFile(service: Service, containerPath: string): string {
  const volume = (service.volumes ?? []).find((v) => v.split(":")[1] === containerPath);
  const source = volume?.split(":")[0];
  if (!source?.startsWith("./"))
    throw new Error(`nothing of this repository is at ${containerPath}`);
  return repoPath(source);
}
