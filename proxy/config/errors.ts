/** A routing configuration that cannot run; the message names the setting at fault. */
export class ProxyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxyConfigError";
  }
}
