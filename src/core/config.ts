import { z } from 'zod';
import { HOST_PATTERN_RE } from './egress-hosts.js';
import { PUBLIC_KEY_PATTERN } from './seal.js';

/** Protected paths that no task may write, whatever its allowed_paths say (SPEC §2.2). */
export const DEFAULT_PROTECTED_PATHS = [
  '.github/**',
  '.leviathan/config.yaml',
  '.git/**',
  '**/.env*',
  '**/*.pem',
  '**/*.key',
  '**/*secret*',
  '**/credentials*',
] as const;

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

export const ConfigSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    autonomy: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    base_branch: z.string().default(''),
    scope: z
      .strictObject({
        allowed_paths: z.array(z.string()).min(1).default(['.leviathan/**', 'docs/**']),
        protected_paths: z.array(z.string()).default([...DEFAULT_PROTECTED_PATHS]),
      })
      .prefault({}),
    limits: z
      .strictObject({
        max_open_prs: positiveInt.default(1),
        max_running_attempts: positiveInt.default(1),
        max_attempts_per_task: positiveInt.default(2),
        circuit_breaker_failures: positiveInt.default(2),
        breaker_cooldown_minutes: nonNegativeInt.default(0),
        max_dispatches_per_hour: positiveInt.default(2),
        attempt_timeout_minutes: positiveInt.default(15),
        max_files_changed: positiveInt.default(50),
        max_diff_bytes: positiveInt.default(1048576),
        max_cost_usd_per_task: z
          .number()
          .finite()
          .min(0)
          .default(0)
          .describe('most a task may spend (reported cost, USD) before select refuses it; 0: unlimited'),
        max_cost_usd_per_day: z
          .number()
          .finite()
          .min(0)
          .default(0)
          .describe('most all attempts may spend per UTC day (reported cost, USD); 0: unlimited'),
      })
      .prefault({}),
    executor: z
      .strictObject({
        command: z.string().default(''),
        verify: z.string().default(''),
        env_allowlist: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
        sandbox: z
          .enum(['auto', 'bwrap', 'unshare', 'none'])
          .default('auto')
          .describe(
            'where the agent runs: auto (bubblewrap, else unshare, else the attempt fails), bwrap, unshare, or none (unsandboxed; shown in every summary and PR)',
          ),
        network: z
          .enum(['none', 'allowlist', 'open'])
          .default('allowlist')
          .describe(
            'what the sandboxed agent can reach: none (its own network namespace, only its own loopback), allowlist (the same, plus an HTTP(S) CONNECT proxy outside the sandbox that admits only the host names of network_allow on ports 443/80; an empty list is none), or open (the host network: every service of the machine, 127.0.0.1 included, e.g. the origin git server, and the whole internet; not recommended). With sandbox: none the agent always has the host network',
          ),
        network_allow: z
          .array(
            z
              .string()
              .regex(HOST_PATTERN_RE, 'must be a host name (api.example.com) or *.suffix (*.example.com)'),
          )
          .default([])
          .describe(
            'host names the allowlist proxy admits: exact (api.anthropic.com) or *.suffix (*.openai.com, which matches sub-domains only); raw IP addresses are always refused',
          ),
      })
      .prefault({}),
    pr: z
      .strictObject({
        draft: z.boolean().default(true),
        labels: z.array(z.string().min(1)).default(['leviathan']),
        branch_prefix: z
          .string()
          .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/, 'must be a branch path ending in "/"')
          .default('leviathan/'),
        reviewers: z.array(z.string().min(1)).default([]),
        auto_merge: z.boolean().default(false),
        mark_done_in_backlog: z.boolean().default(true),
      })
      .prefault({}),
    events: z
      .strictObject({
        public_key: z
          .union([
            z.literal(''),
            z.string().regex(PUBLIC_KEY_PATTERN, 'must be ed25519:<base64> (leviathan key id)'),
          ])
          .default('')
          .describe('Ed25519 public key that seals every append to the event log; empty: unsigned log'),
      })
      .prefault({}),
  })
  .describe('Leviathan configuration (.leviathan/config.yaml)');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The configuration a repository gets when `.leviathan/config.yaml` is absent. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
