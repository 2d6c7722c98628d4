/**
 * `${{ }}` expressions as the Actions runner evaluates them, on @actions/expressions: contexts are plain JSON
 * turned into expression data, and the status functions (`success()`, `always()`, …) read the job's status.
 */
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';

export type JobStatus = 'success' | 'failure' | 'cancelled';

export interface ExpressionScope {
  /** Named contexts: github, env, inputs, vars, secrets, steps, needs, job, runner, matrix, strategy. */
  contexts: Record<string, unknown>;
  /** What the status functions see: the job so far (steps) or the needed jobs (job-level `if`). */
  status: JobStatus;
}

const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'] as const;

function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
}

function fromData(value: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(value, data.replacer));
}

/** Evaluates one expression (without `${{ }}`) to a plain JSON value. */
export function evaluate(expression: string, scope: ExpressionScope): unknown {
  const lexed = new Lexer(expression).lex();
  const names = STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
  const ast = new Parser(lexed.tokens, Object.keys(scope.contexts), names).parse();
  const functions = new Map(
    STATUS_FUNCTIONS.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () =>
          new data.BooleanData(
            name === 'always'
              ? true
              : name === 'success'
                ? scope.status === 'success'
                : scope.status === name,
          ),
      },
    ]),
  );
  const context = toData(scope.contexts) as data.Dictionary;
  return fromData(new Evaluator(ast, context, functions).evaluate());
}

/** Falsy as GitHub defines it: null, false, 0, NaN and the empty string. */
export function truthy(value: unknown): boolean {
  return !(
    value === null ||
    value === undefined ||
    value === false ||
    value === 0 ||
    value === '' ||
    Number.isNaN(value)
  );
}

/** A value as it lands in an env var, an input or a run script. */
export function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

/**
 * Evaluates every `${{ }}` in a YAML value. A string that is exactly one expression keeps the result's type
 * (so `if:` and boolean inputs work); any other string is interpolated. Mappings and sequences recurse.
 */
export function interpolate(value: unknown, scope: ExpressionScope): unknown {
  if (typeof value === 'string') {
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
    if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, scope);
    return value.replace(EXPRESSION, (_m, expr: string) => stringify(evaluate(expr, scope)));
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope)]));
  }
  return value;
}

/** An `if:` condition: with or without `${{ }}`; an empty one means `success()`. */
export function condition(source: unknown, scope: ExpressionScope): boolean {
  if (source === undefined || source === null || source === '') return scope.status === 'success';
  if (typeof source === 'boolean') return source;
  const text = String(source).trim();
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(text);
  const expr = whole ? whole[1]! : text;
  // As GitHub does: a condition that calls no status function is implicitly `success() && (…)`.
  const usesStatus = /\b(success|failure|cancelled|always)\s*\(/.test(expr);
  const result = truthy(evaluate(expr, scope));
  return usesStatus ? result : scope.status === 'success' && result;
}
