/**
 * Agents for the chat tests, next to the built-in demo: a slow demo (to stop), one whose
 * runtime cannot be reached (to fail), and one Ada may view but not run.
 */
export const CHAT_TEST_MANIFESTS = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: slow-demo
  title: Slow demo
  description: The demo agent, a word every 300 ms, so there is time to stop it.
  owner: team:switchboard
  tags: [demo]
spec:
  runtime:
    type: demo
    delay_ms: 300
  access:
    view: ["user:*"]
    run: ["user:*"]
---
apiVersion: switchboard/v1
kind: Agent
metadata:
  name: unreachable
  title: Unreachable agent
  description: Its runtime is an address where nothing listens, so every run fails.
  owner: team:switchboard
spec:
  runtime:
    type: http
    url: http://127.0.0.1:9/turn
    timeout_seconds: 5
  access:
    view: ["user:*"]
    run: ["user:*"]
---
apiVersion: switchboard/v1
kind: Agent
metadata:
  name: look-only
  title: Look-only agent
  description: Everyone may see it; only Grace may run it.
  owner: user:grace@example.com
  contacts:
    - name: Grace
      email: grace@example.com
spec:
  runtime:
    type: demo
  skills:
    - name: echo
      examples: ["Say hello"]
  access:
    view: ["user:*"]
    run: [user:grace@example.com]
`;
