import { z } from 'zod';

export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const PRIORITIES = ['high', 'medium', 'low'] as const;
export const TASK_STATUSES = ['pending', 'done', 'blocked'] as const;

export const TaskSchema = z.strictObject({
  id: z.string().regex(TASK_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9._-]{0,63}$'),
  title: z.string().min(1).max(200),
  description: z.string().default(''),
  ready: z.boolean().default(false),
  status: z.enum(TASK_STATUSES).default('pending'),
  priority: z.enum(PRIORITIES).default('medium'),
  dependencies: z.array(z.string()).default([]),
  allowed_paths: z.array(z.string()).min(1, 'must list at least one path'),
  acceptance_criteria: z.array(z.string()).default([]),
  labels: z.array(z.string().min(1)).default([]),
  run: z.array(z.string().min(1)).min(1).optional(),
  verify: z.string().optional(),
  max_attempts: z.number().int().min(1).optional(),
  timeout_minutes: z.number().int().min(1).optional(),
  executor: z
    .strictObject({
      command: z.string().min(1).optional(),
      timeout_minutes: z.number().int().min(1).optional(),
    })
    .optional()
    .describe(
      "this task's executor: command replaces the config's executor.command; timeout_minutes may only lower limits.attempt_timeout_minutes",
    ),
});

export const BacklogSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    tasks: z.array(TaskSchema).default([]),
  })
  .describe('Leviathan backlog (.leviathan/backlog.yaml)');

export type Task = z.output<typeof TaskSchema>;
export type Backlog = z.output<typeof BacklogSchema>;
export type Priority = (typeof PRIORITIES)[number];
