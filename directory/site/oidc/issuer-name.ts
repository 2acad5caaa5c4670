/** Issuers whose host says less to a person than the company's name does. */
const KNOWN: [RegExp, string][] = [
  [/(^|\.)accounts\.google\.com$/, "Google"],
  [/(^|\.)login\.microsoftonline\.com$/, "Microsoft"],
  [/(^|\.)okta(preview)?\.com$/, "Okta"],
  [/(^|\.)auth0\.com$/, "Auth0"],
  [/(^|\.)onelogin\.com$/, "OneLogin"],
  [/(^|\.)gitlab\.com$/, "GitLab"],
];

/** The name on the "Sign in with …" button: a known provider's name, else the issuer's host. */
export function issuerName(issuer: URL): string {
  return KNOWN.find(([pattern]) => pattern.test(issuer.hostname))?.[1] ?? issuer.host;
}
