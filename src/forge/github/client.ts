/**
 * The one Octokit Leviathan uses: @octokit/rest with plugin-retry (5xx and transport failures, bounded
 * backoff) and plugin-throttling (primary and secondary rate limits: `retry-after` and `x-ratelimit-reset`
 * honoured, a bounded number of waits, then the error surfaces and the caller fails closed). Every request
 * has a timeout. Octokit's own log lines go through `log`, redacted.
 */
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

export interface ClientOptions {
  token: string;
  /** `GITHUB_API_URL`: `https://api.github.com`, or `https://HOST/api/v3` on GitHub Enterprise Server. */
  apiUrl: string;
  /** Per-request timeout (default 30 s); a request slower than this is retried like a transport failure. */
  timeoutMs?: number;
  /** Retries of a 5xx or transport failure (default 3). */
  retries?: number;
  /** Milliseconds per unit of backoff and of `retry-after` seconds (default 1000; tests shrink it). */
  retryAfterBaseMs?: number;
  /** Longest rate-limit wait accepted, in seconds (default 60); longer waits fail closed. */
  maxRateLimitWaitS?: number;
  /** Rate-limit waits per request before giving up (default 2). */
  maxRateLimitRetries?: number;
  /** GitHub's pacing of writes (1 s between writes, 3 s between notifying writes); default on. */
  pacing?: boolean;
  log?: (line: string) => void;
}

const ThrottledOctokit = Octokit.plugin(retry, throttling);
export type GitHubClient = InstanceType<typeof ThrottledOctokit>;

/** A Bottleneck group that does not pace (the throttling plugin only calls `key().schedule()`). */
const unpaced = { key: () => ({ schedule: (_options: unknown, fn: () => unknown) => fn() }) };

export function createClient(options: ClientOptions): GitHubClient {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const base = options.retryAfterBaseMs ?? 1000;
  const maxWait = options.maxRateLimitWaitS ?? 60;
  const maxRetries = options.maxRateLimitRetries ?? 2;
  const log = options.log ?? (() => {});
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _o: unknown, retryCount: number) => {
      const retrying = retryCount < maxRetries && retryAfter <= maxWait;
      log(
        `GitHub ${kind} rate limit on ${request.method} ${request.url}: ${retrying ? `retrying in ${retryAfter}s` : 'giving up'}`,
      );
      return retrying;
    };
  // A timer we hold ourselves: AbortSignal.any only keeps weak references to its sources, so an
  // AbortSignal.timeout passed to it can be collected before it fires and the request then never times out.
  const timedFetch: typeof fetch = async (input, init) => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    );
    const outer = init?.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    try {
      return await fetch(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  };
  return new ThrottledOctokit({
    auth: options.token,
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    userAgent: 'leviathan',
    request: { fetch: timedFetch },
    retry: { retries: options.retries ?? 3, retryAfterBaseValue: base },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      retryAfterBaseValue: base,
      ...(options.pacing === false ? { write: unpaced, notifications: unpaced } : {}),
    } as never,
    // Failed requests surface as errors (plugin-request-log would print each one again).
    log: { debug: () => {}, info: () => {}, warn: (m: string) => log(m), error: () => {} },
  });
}
