/**
 * Faults the emulator can inject, per operation and per call: what GitHub does when it is down, throttling,
 * out of budget, refusing the token, slow, or gone mid-request.
 */

export type Fault =
  | { kind: 500 | 502 | 503 }
  /** 403 "You have exceeded a secondary rate limit" with `retry-after`. */
  | { kind: 'secondary'; retryAfter?: number }
  /** 429 Too Many Requests with `retry-after`. */
  | { kind: 429; retryAfter?: number }
  /** 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds ahead (default 1). */
  | { kind: 'primary'; resetIn?: number }
  | { kind: 401 }
  /** The operation is performed, the response is held back `ms` (longer than the client's timeout). */
  | { kind: 'slow'; ms: number }
  /** The request is read and performed, then the connection is destroyed before any response. */
  | { kind: 'drop' };

export const FAULT_KINDS: Fault[] = [
  { kind: 500 },
  { kind: 502 },
  { kind: 503 },
  { kind: 'secondary', retryAfter: 1 },
  { kind: 429, retryAfter: 1 },
  { kind: 'primary', resetIn: 1 },
  { kind: 401 },
  { kind: 'slow', ms: 3_000 },
  { kind: 'drop' },
];

export function faultName(fault: Fault): string {
  return String(fault.kind);
}

interface Rule {
  operation: string;
  fault: Fault;
  /** 1-based call numbers of the operation this rule hits; when absent, the next `times` calls. */
  calls?: Set<number>;
  times: number;
}

export class FaultPlan {
  private rules: Rule[] = [];

  add(operation: string, fault: Fault, when: { call?: number | number[]; times?: number } = {}): void {
    const calls = when.call === undefined ? undefined : new Set([when.call].flat());
    this.rules.push({ operation, fault, ...(calls ? { calls } : {}), times: when.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault for the `call`-th request of `operation` (consuming it), if any. */
  take(operation: string, call: number): Fault | null {
    const i = this.rules.findIndex(
      (r) =>
        (r.operation === operation || r.operation === '*') && (r.calls ? r.calls.has(call) : r.times > 0),
    );
    if (i < 0) return null;
    const rule = this.rules[i]!;
    if (rule.calls) rule.calls.delete(call);
    else rule.times -= 1;
    if ((rule.calls && rule.calls.size === 0) || (!rule.calls && rule.times === 0)) this.rules.splice(i, 1);
    return rule.fault;
  }
}

/** The response a status fault makes (body as GitHub words it). */
export function faultResponse(
  fault: Exclude<Fault, { kind: 'slow' } | { kind: 'drop' }>,
  nowSeconds: number,
): { status: number; headers: Record<string, string>; body: { message: string; documentation_url: string } } {
  const docs = 'https://docs.github.com/rest';
  switch (fault.kind) {
    case 500:
    case 502:
    case 503:
      return { status: fault.kind, headers: {}, body: { message: 'Server Error', documentation_url: docs } };
    case 'secondary':
      return {
        status: 403,
        headers: { 'retry-after': String(fault.retryAfter ?? 1) },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: docs,
        },
      };
    case 429:
      return {
        status: 429,
        headers: { 'retry-after': String(fault.retryAfter ?? 1) },
        body: {
          message: 'You have exceeded a secondary rate limit (too many requests).',
          documentation_url: docs,
        },
      };
    case 'primary':
      return {
        status: 403,
        headers: {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(nowSeconds + (fault.resetIn ?? 1)),
        },
        body: { message: 'API rate limit exceeded for installation.', documentation_url: docs },
      };
    case 401:
      return { status: 401, headers: {}, body: { message: 'Bad credentials', documentation_url: docs } };
  }
}
