/** The wait between compare-and-swap tries of `RefStore.update` (ref-store.ts) after a lost race. */
/** Full jitter: a random wait in [0, min(max, base·2^(try−1))). */
export function backoffDelay(tryNumber: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, tryNumber - 1)));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
