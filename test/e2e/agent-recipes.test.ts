/**
 * The agent recipes of docs/agents.md, each run as written: its `# recipe:` block (the agent job's steps) is
 * spliced into the workflow `leviathan init` writes, linted with actionlint, and run through the workflow
 * runner against the GitHub emulator with its `# config:` block as the executor config. The agents are
 * stand-ins of the same command-line shape (test/fixtures/agents/bin: `claude`, `codex`, `aider`,
 * `openhands`, `copilot`, and the `npm`/`pipx`/`uv` of the install steps) first on the runner's PATH; the
 * claude-code-action recipe runs the runner's stand-in of that action, which runs the same fake `claude`.
 * Each run: the task's draft PR is open, and the spend the agent reported reached attempt.succeeded.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parse, parseDocument, stringify } from 'yaml';
import { actionlint } from '../helpers/actionlint.js';
import { ofType } from '../helpers/loop.js';
import { type WorkflowBed, workflowBed, workflowFromInit } from '../helpers/workflow-bed.js';

const AGENTS_BIN = resolve('test/fixtures/agents/bin');
const DOC = readFileSync('docs/agents.md', 'utf8');

/** The fenced yaml blocks of the doc whose first line is `# <kind>: <name>`, by name. */
function blocks(kind: 'recipe' | 'config'): Map<string, string> {
  const found = new Map<string, string>();
  for (const [, body] of DOC.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const marker = new RegExp(`^# ${kind}: ([\\w-]+)\\n`).exec(body!);
    if (marker) found.set(marker[1]!, body!);
  }
  return found;
}

const RECIPES = blocks('recipe');
const CONFIGS = blocks('config');

/** The workflow `init` wrote with the recipe's steps as the agent job's. */
function splice(workflow: string, recipe: string): string {
  const doc = parseDocument(workflow);
  const steps = (parse(recipe) as { steps: unknown[] }).steps;
  doc.setIn(['jobs', 'agent', 'steps'], doc.createNode(steps));
  return doc.toString({ lineWidth: 0 });
}

/** What each recipe's stand-in reports, as the terminal event carries it (cost in micro-dollars). */
const EXPECTED_USAGE: Record<string, Record<string, number> | undefined> = {
  'claude-code': { cost_usd_micros: 42_100, input_tokens: 1200, output_tokens: 340, turns: 3 },
  'claude-code-action': { cost_usd_micros: 42_100, input_tokens: 1200, output_tokens: 340, turns: 3 },
  codex: { input_tokens: 1200, output_tokens: 340, turns: 1 },
  aider: { cost_usd_micros: 12_300, input_tokens: 1200, output_tokens: 340, turns: 1 },
  openhands: { cost_usd_micros: 31_000, input_tokens: 1200, output_tokens: 340, turns: 3 },
  copilot: undefined, // reports nothing: unknown spend
  script: { cost_usd_micros: 1000, turns: 1 },
};

const AGENT_OF: Record<string, string> = {
  'claude-code': 'claude',
  'claude-code-action': 'claude',
  codex: 'codex',
  aider: 'aider',
  openhands: 'openhands',
  copilot: 'copilot',
};

const SECRETS = {
  LEVIATHAN_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----fake',
  ANTHROPIC_API_KEY: 'fake-anthropic-key-for-the-stand-in',
  OPENAI_API_KEY: 'fake-openai-key-for-the-stand-in',
  LLM_API_KEY: 'fake-llm-key-for-the-stand-in',
  COPILOT_GITHUB_TOKEN: 'fake-copilot-token-for-the-stand-in',
};

function configFor(name: string): string {
  const executor = (parse(CONFIGS.get(name)!) as { executor: Record<string, unknown> }).executor;
  return stringify({ version: 1, scope: { allowed_paths: ['docs/**'] }, executor });
}

function backlogFor(name: string): string {
  const task: Record<string, unknown> = {
    id: `page-${name}`,
    title: `Write the ${name} page`,
    ready: true,
    allowed_paths: [`docs/${name}.md`],
    acceptance_criteria: ['The page has a title'],
  };
  if (name === 'script') {
    task.run = [
      `echo '# The ${name} page' > docs/${name}.md`,
      `echo '{"cost_usd": 0.001, "turns": 1}' > "$LEVIATHAN_RESULT_FILE"`,
    ];
  }
  return stringify({ version: 1, tasks: [task] });
}

/** Every recipe's workflow, linted in one actionlint process (its start-up is most of the cost). */
let linting: Promise<{ workflows: Record<string, string>; findings: Record<string, string[]> }> | undefined;
function linted() {
  linting ??= (async () => {
    const init = await workflowFromInit();
    const workflows = Object.fromEntries(
      [...RECIPES].map(([name, recipe]) => [name, splice(init, recipe)] as const),
    );
    return { workflows, findings: await actionlint(workflows) };
  })();
  return linting;
}

describe('docs/agents.md recipes', () => {
  it('has every recipe with its config block', () => {
    expect([...RECIPES.keys()].sort()).toEqual(Object.keys(EXPECTED_USAGE).sort());
    expect([...CONFIGS.keys()].sort()).toEqual([...RECIPES.keys()].sort());
  });

  const beds: WorkflowBed[] = [];
  afterAll(async () => {
    for (const bed of beds) await bed.stop();
  });

  describe.each([...RECIPES.keys()])('%s', (name) => {
    it('spliced into the init workflow, passes actionlint and runs green to a PR with its spend', async () => {
      const recipe = RECIPES.get(name)!;
      const bed = await workflowBed(
        `recipe-${name}`,
        { config: configFor(name), backlog: backlogFor(name) },
        {
          workflow: (text) => splice(text, recipe),
          // The stand-ins live in this checkout, which the sandbox hides like any other directory.
          runner: {
            env: { PATH: `${AGENTS_BIN}:${process.env.PATH}`, LEVIATHAN_SANDBOX_SHOW: dirname(AGENTS_BIN) },
            secrets: SECRETS,
          },
        },
      );
      beds.push(bed);
      expect((parse(bed.workflow) as { jobs: { agent: { steps: unknown } } }).jobs.agent.steps).toEqual(
        (parse(recipe) as { steps: unknown }).steps,
      );

      const lint = await linted();
      expect(lint.workflows[name]).toBe(bed.workflow);
      expect(lint.findings[name]).toEqual([]);

      const tick = await bed.tick();
      expect(tick.jobs.tick?.result).toBe('success');
      const [work] = await bed.settled();
      expect(work).toBeDefined();
      const results = Object.fromEntries(Object.values(work!.jobs).map((j) => [j.id, j.result]));
      if (results.agent !== 'success' || results.finish !== 'success') {
        throw new Error(
          `${name}: ${JSON.stringify(results)}\n${work!.jobs.agent?.log}\n${work!.jobs.finish?.log}`,
        );
      }

      const pulls = [...bed.emu.issues.values()].filter((i) => i.pull);
      expect(pulls).toHaveLength(1);
      expect(pulls[0]!.pull).toMatchObject({ head: `leviathan/page-${name}`, draft: true });

      // The stand-in of this recipe did the work (its page on the PR branch), and aider's commits stayed in
      // its own disposable repository.
      const { stdout: page } = await promisify(execFile)('git', [
        '--git-dir',
        bed.target.bare,
        'show',
        `refs/heads/leviathan/page-${name}:docs/${name}.md`,
      ]);
      expect(page).toContain(name === 'script' ? '# The script page' : `# Write the ${name} page`);
      if (name !== 'script') expect(page).toContain(`Written by ${AGENT_OF[name]} (attempt 1)`);
      if (name === 'aider') expect(work!.jobs.agent!.log).toContain('Commit 1234567 aider');

      const events = await bed.events();
      const [succeeded] = ofType(events, 'attempt.succeeded', `page-${name}`);
      expect(succeeded).toBeDefined();
      const usage = (succeeded as { data: { usage?: unknown } }).data.usage;
      expect(usage).toEqual(EXPECTED_USAGE[name]);
      expect(bed.emu.violations).toEqual([]);
    });
  });
});
