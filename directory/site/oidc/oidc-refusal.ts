/** A sign-in (or an issuer's token) that was refused, with a message for the person and the HTTP status to show it with. */
export class OidcRefusal extends Error {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "OidcRefusal";
  }
}
