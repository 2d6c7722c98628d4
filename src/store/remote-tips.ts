/**
 * Tips one `ls-remote` saw on a remote, so the fetches that follow it in the same tick (or the same phase of
 * an attempt: its start, and its delivery, which lists again after the agent ran) can be skipped when the
 * local copy already has that tip. Each tip is good for one fetch only (then forgotten), and a push of the
 * ref store spends every tip of the remote: a later fetch always asks the remote again. The forge's "does the
 * branch exist" question (`peekRemoteTip`, which never skips a fetch) is still answered by the listing and
 * the tips the worker's own pushes recorded (`noteRemoteTip`), so it needs no listing of its own.
 */

interface Listing {
  tips: Map<string, string>;
  /** Ref prefixes the listing covers completely: a ref under one of them that is not listed is absent. */
  complete: string[];
  /** Refs whose tip was already used. */
  used: Set<string>;
  /** Stale as a whole (see `forgetRemoteTips`): an absent ref's null no longer skips a fetch either. */
  spent?: boolean;
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
  if (!listing || listing.spent || listing.used.has(ref)) return undefined;
  const tip = listing.tips.get(ref) ?? (listing.complete.some((p) => ref.startsWith(p)) ? null : undefined);
  if (tip !== undefined) listing.used.add(ref);
  return tip;
}

/**
 * A push to `url` (or anything else that moves its refs) makes the last listing of it stale: no tip of it
 * skips a fetch any more, but it still answers `peekRemoteTip` (a branch that existed when this attempt
 * listed the origin; only a human deletes one).
 */
export function forgetRemoteTips(url: string): void {
  const listing = listings.get(url);
  if (!listing) return;
  for (const ref of listing.tips.keys()) listing.used.add(ref);
  listing.spent = true;
}

/**
 * The tip of `ref` on `url` from the last listing without using it up (for "does this branch exist"
 * questions, not for skipping a fetch): as `takeRemoteTip`, but a used tip still answers.
 */
export function peekRemoteTip(url: string, ref: string): string | null | undefined {
  const listing = listings.get(url);
  if (!listing) return undefined;
  return listing.tips.get(ref) ?? (listing.complete.some((p) => ref.startsWith(p)) ? null : undefined);
}

/** This process just pushed `oid` to `ref` on `url`: the last listing now shows it there (unused). */
export function noteRemoteTip(url: string, ref: string, oid: string): void {
  const listing = listings.get(url);
  if (!listing) return;
  listing.tips.set(ref, oid);
  listing.used.delete(ref);
}

/** Parses `git ls-remote` output into ref → object id, keeping the refs under `prefixes`. */
export function parseListing(stdout: string, prefixes: readonly string[]): Map<string, string> {
  const tips = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [oid, ref] = line.split('\t');
    if (oid && ref && /^[0-9a-f]{40,64}$/.test(oid) && prefixes.some((p) => ref.startsWith(p)))
      tips.set(ref, oid);
  }
  return tips;
}

/** Ref prefixes a listing of the origin covers completely: its branches and Leviathan's own refs. */
export const LISTED_PREFIXES = ['refs/heads/', 'refs/leviathan/'];

/**
 * Refs of other stores kept in the same private repository (the local forge's pulls next to the event log):
 * a store fetching from `url` takes them along in the same fetch when the last listing shows they moved, so
 * the other store's next read needs no session of its own (its compare-and-swap still guards the write).
 */
const companions = new Map<string, Set<string>>();

export function fetchAlong(url: string, ref: string): void {
  const refs = companions.get(url) ?? new Set<string>();
  refs.add(ref);
  companions.set(url, refs);
}

/** The refs registered with `fetchAlong` for `url`, except `ref` itself. */
export function companionsOf(url: string, ref: string): string[] {
  return [...(companions.get(url) ?? [])].filter((r) => r !== ref);
}
