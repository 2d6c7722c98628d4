import { z } from 'zod';

/**
 * What an agent reports it spent (issue 11, "Spend budget"): the agent may write `LEVIATHAN_RESULT_FILE`
 * (`{"cost_usd": …, "input_tokens": …, "output_tokens": …, "turns": …}`). The file is the agent's, so it is
 * read as untrusted data: size capped, parsed, every figure checked; anything wrong is ignored with a warning
 * (the attempt then counts as unknown spend), never an error. Money is kept as integer micro-dollars so the
 * hash chain never holds a float.
 */

/** The most of the result file that is read; a larger file is ignored. */
export const RESULT_FILE_MAX_BYTES = 64 * 1024;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The usage an attempt's terminal event carries (every figure optional: report what is known). */
export const UsageSchema = z.strictObject({
  cost_usd_micros: count.optional(),
  input_tokens: count.optional(),
  output_tokens: count.optional(),
  turns: count.optional(),
});
export type Usage = z.output<typeof UsageSchema>;

// Numbers only: `"5"`, `true` or `null` are not figures. Other keys are allowed (an agent's own JSON output).
const figure = z
  .number()
  .finite()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER / 1e6);
const ResultFileSchema = z.looseObject({
  cost_usd: figure.optional(),
  input_tokens: figure.optional(),
  output_tokens: figure.optional(),
  turns: figure.optional(),
});

export type ResultFileReading = { usage?: Usage; warning?: string };

/** Parses the result file's bytes (`null`: there is none). Never throws. */
export function parseResultFile(bytes: Uint8Array | string | null): ResultFileReading {
  if (bytes === null) return {};
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > RESULT_FILE_MAX_BYTES) {
    return { warning: `the result file is over ${RESULT_FILE_MAX_BYTES} bytes; ignored` };
  }
  const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { warning: 'the result file is not JSON; ignored' };
  }
  const parsed = ResultFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      warning: `the result file is not a usage report${where}: ${issue?.message ?? 'invalid'}; ignored`,
    };
  }
  const r = parsed.data;
  const usage: Usage = {};
  if (r.cost_usd !== undefined) usage.cost_usd_micros = Math.round(r.cost_usd * 1e6);
  if (r.input_tokens !== undefined) usage.input_tokens = Math.round(r.input_tokens);
  if (r.output_tokens !== undefined) usage.output_tokens = Math.round(r.output_tokens);
  if (r.turns !== undefined) usage.turns = Math.round(r.turns);
  return Object.keys(usage).length > 0 ? { usage } : {};
}

/**
 * The result-file form of checked usage (`cost_usd` in dollars), for carrying it between jobs: the agent job
 * writes it next to the work-tree archive and finish reads it again with `parseResultFile`, as data.
 */
export function resultFileOf(usage: Usage): string {
  const out: Record<string, number> = {};
  if (usage.cost_usd_micros !== undefined) out.cost_usd = usage.cost_usd_micros / 1e6;
  if (usage.input_tokens !== undefined) out.input_tokens = usage.input_tokens;
  if (usage.output_tokens !== undefined) out.output_tokens = usage.output_tokens;
  if (usage.turns !== undefined) out.turns = usage.turns;
  return `${JSON.stringify(out)}\n`;
}

/** `$1.234567` from micro-dollars (no float arithmetic on the way). */
export function formatUsd(micros: number): string {
  const whole = Math.floor(micros / 1e6);
  const frac = String(micros % 1e6)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `$${whole}.${frac.length < 2 ? frac.padEnd(2, '0') : frac}`;
}

/** Micro-dollars of a configured USD limit. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1e6);
}
