/**
 * Tips one `ls-remote` saw on a remote, so the fetches that follow it in the same tick can be skipped when the
 * local copy already has that tip. Each tip is good for one fetch only (then forgotten), and a push to the
 * remote forgets every tip of it: a later fetch always asks the remote again.
 */

interface Listing {
  tips: Map<string, string>;
  /** Ref prefixes the listing covers completely: a ref under one of them that is not listed is absent. */
  complete: string[];
  /** Refs whose tip was already used. */
  used: Set<string>;
}

const listings = new Map<string, Listing>();

/** Records what `ls-remote <url> <prefix>*…` showed (`tips`: ref → object id). */
export function rememberRemoteTips(url: string, tips: Map<string, string>, complete: string[]): void {
  listings.set(url, { tips: new Map(tips), complete: [...complete], used: new Set() });
}

/**
 * The tip of `ref` on `url` from the last listing, once: a commit id, null when the listing shows the ref is
 * absent, undefined when it says nothing (never listed, or already used).
 */
export function takeRemoteTip(url: string, ref: string): string | null | undefined {
  const listing = listings.get(url);
  if (!listing || listing.used.has(ref)) return undefined;
  const tip = listing.tips.get(ref) ?? (listing.complete.some((p) => ref.startsWith(p)) ? null : undefined);
  if (tip !== undefined) listing.used.add(ref);
  return tip;
}

/** A push to `url` (or anything else that moves its refs) makes the last listing of it stale. */
export function forgetRemoteTips(url: string): void {
  listings.delete(url);
}
