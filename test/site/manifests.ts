/** The agents the site tests register: some the test user may view, one they may not. */
export const SITE_TEST_MANIFESTS = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ticket-triage
  title: Ticket triage
  description: Reads a support ticket and says which queue it belongs in, and how urgent it is.
  owner: team:support
  tags: [support, tickets]
  lifecycle: production
  icon: "🎫"
  links:
    - title: Runbook
      url: https://wiki.example.com/support/triage
  contacts:
    - name: Support tooling
      email: support-tooling@example.com
      slack: "#support-tooling"
spec:
  runtime:
    type: a2a
    url: https://agents.example.com/triage
  skills:
    - name: classify
      description: Picks the queue and priority for a ticket.
      examples:
        - "Which queue does this belong in? 'Cannot log in since the update'"
        - "How urgent is ticket 4411?"
  access:
    view: ["user:*"]
    run: [team:support]
  limits:
    max_cost_usd_per_run: 0.5
    timeout_seconds: 120
---
apiVersion: switchboard/v1
kind: Agent
metadata:
  name: invoice-helper
  title: Invoice helper
  description: Matches supplier invoices to purchase orders and flags what does not add up.
  owner: team:finance
  tags: [finance, invoices]
  lifecycle: production
  icon: "🧾"
spec:
  runtime:
    type: n8n
    webhook_url: https://n8n.example.com/webhook/invoices
  skills:
    - name: match
      description: Finds the purchase order for an invoice.
      examples: ["Which PO does invoice INV-2291 belong to?"]
  access:
    view: [user:ada@example.com]
    run: [user:ada@example.com]
---
apiVersion: switchboard/v1
kind: Agent
metadata:
  name: release-notes
  title: Release notes writer
  description: Turns a list of merged pull requests into release notes people want to read.
  owner: user:grace@example.com
  tags: [docs, engineering]
  lifecycle: experimental
spec:
  runtime:
    type: http
    url: https://agents.example.com/release-notes
  access:
    view: ["user:*"]
---
apiVersion: switchboard/v1
kind: Agent
metadata:
  name: secret-project
  title: Secret project
  description: Nobody but its owner should ever see this one.
  owner: team:skunkworks
  tags: [support]
spec:
  runtime:
    type: a2a
    url: https://agents.example.com/secret
  access:
    view: [user:nobody@example.com]
`;
