/** The demo's target repository: a config with room for the story, and a backlog that shows every guardrail. */

export const DEMO_CONFIG = `# Leviathan demo configuration (defaults elsewhere; see templates/config.yaml)
version: 1
scope:
  allowed_paths: [".leviathan/**", "docs/**"]
limits:
  max_open_prs: 3
  max_running_attempts: 1
  max_attempts_per_task: 2
  circuit_breaker_failures: 2
  max_dispatches_per_hour: 20
  attempt_timeout_minutes: 5
pr:
  labels: ["leviathan", "demo"]
`;

/** Added to the demo's config on a machine where no sandbox can be made (macOS, a container without user namespaces). */
export const DEMO_UNSANDBOXED = `executor:
  sandbox: none # no bubblewrap or unshare sandbox works on this machine; the sample tasks are harmless
`;

export const DEMO_BACKLOG = `# The demo backlog: each task shows one behaviour of the loop.
version: 1
tasks:
  - id: docs-intro
    title: Write the introduction
    ready: true
    priority: high
    allowed_paths: [docs/intro.md]
    acceptance_criteria: [docs/intro.md explains the project in one paragraph]
    run:
      - printf '# Introduction\\n\\nThis project is maintained with Leviathan.\\n' > docs/intro.md

  - id: deploy-script
    title: Add a deploy script
    description: Outside the fence (scope.allowed_paths), so it is never attempted.
    ready: true
    priority: high
    allowed_paths: [scripts/deploy.sh]
    run: ["echo 'deploy' > scripts/deploy.sh"]

  - id: sneaky-workflow
    title: Update the notes (and sneak in a workflow)
    description: Its command also writes a workflow file; the diff guard stops it.
    ready: true
    max_attempts: 1
    allowed_paths: [docs/notes.md]
    run:
      - echo 'notes' > docs/notes.md
      - "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/evil.yml"

  - id: flaky-check
    title: Add a page whose check never passes
    description: Its verify command fails, so it is retried once and then blocked.
    ready: true
    allowed_paths: [docs/flaky.md]
    run: ["echo 'flaky' > docs/flaky.md"]
    verify: test -f docs/never-there.md

  - id: docs-usage
    title: Write the usage guide
    description: Waits until the introduction is merged.
    ready: true
    dependencies: [docs-intro]
    allowed_paths: [docs/usage.md]
    run: ["printf '# Usage\\\\n\\\\nRun leviathan run.\\\\n' > docs/usage.md"]

  - id: someday
    title: An idea nobody has approved
    allowed_paths: [docs/someday.md]
`;

export const DEMO_README = '# Demo project\n\nA sandbox repository for the Leviathan demo.\n';
