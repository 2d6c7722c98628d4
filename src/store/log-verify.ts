/** The checks of a log at a `RefView`: the pure check on its files, the tip commit's message, seal and anchor. */
import { type CheckLogResult, checkLog, type Problem } from './log-check.js';
import { DAY_FILE, EVENTS_DIR, NEWEST_COPY, parseAppendMessage, STATE_FILE } from './log-format.js';
import { anchorVerdict, sealProblem, sha256Text } from './log-trust.js';
import type { LogVerifyResult, TrustContext } from './log-types.js';
import type { RefView, TreeEntry } from './ref-store-types.js';

/** The check of the files, and what is wrong with the root copy of the newest day file (null: nothing). */
type Checked = CheckLogResult & { copyProblem?: string | null };

export async function checkView(view: RefView, keepEvents: boolean, probe?: number): Promise<Checked> {
  const extra = probe === undefined ? {} : { probe };
  if (view.commit === null) return checkLog({ files: new Map(), stateText: null, keepEvents, ...extra });
  // One listing names state.json (read without another lookup) and the blobs the copy is compared by.
  const listed = await view.list('', EVENTS_DIR);
  const files = await view.readAll(EVENTS_DIR);
  const stateText = await view.read(STATE_FILE);
  return { ...checkLog({ files, stateText, keepEvents, ...extra }), copyProblem: copyProblem(listed) };
}

/**
 * The root copy (NEWEST_COPY) is only a fetch hint, never read, so a copy that is not the newest day file's
 * blob misleads no reader (they fetch the day file): a hand-edited tree, which `verify` warns about. A log
 * written before the copy existed has none, which is fine.
 */
function copyProblem(listed: readonly TreeEntry[]): string | null {
  const copy = listed.find((e) => e.path === NEWEST_COPY);
  if (!copy) return null;
  const days = listed.filter(
    (e) => e.type === 'blob' && e.path === `${EVENTS_DIR}/${e.name}` && DAY_FILE.test(e.name),
  );
  const newest = days[days.length - 1];
  if (copy.type === 'blob' && newest && copy.oid === newest.oid) return null;
  return `${NEWEST_COPY} is not a copy of ${newest ? newest.path : 'a day file'} (the tree was edited by hand); readers never use it`;
}

export function verifyView(view: RefView, checked: Checked): LogVerifyResult {
  const tip = view.commit;
  if (!checked.ok)
    return { ok: false, seq: checked.seq, reason: checked.reason, detail: checked.detail, tip };
  const problem = checked.fatal ?? checked.snapshotProblem;
  if (problem) return { ok: false, ...problem, tip };
  const warnings: string[] = checked.copyProblem ? [checked.copyProblem] : [];
  if (tip !== null) {
    const m = parseAppendMessage(view.message);
    const last = checked.last;
    const lastSeq = last?.seq ?? 0;
    if (!m) {
      warnings.push(
        `the tip commit ${tip.slice(0, 12)} was not written by Leviathan (hand-made or rewritten)`,
      );
    } else {
      if (!last || m.last !== last.seq || m.hash !== last.hash) {
        return {
          ok: false,
          seq: m.last > lastSeq ? lastSeq + 1 : m.last < lastSeq ? m.last + 1 : m.last,
          reason: 'message_mismatch',
          detail: `the tip commit says it appended up to seq ${m.last} (${m.hash.slice(0, 12)}), the files end at ${last ? `seq ${last.seq} (${last.hash.slice(0, 12)})` : 'no event'}`,
          tip,
        };
      }
      if (m.tree !== view.tree) {
        warnings.push(
          `the tip commit ${tip.slice(0, 12)} was changed after Leviathan wrote it (its tree is not the sealed one)`,
        );
      }
    }
  }
  return {
    ok: true,
    count: checked.count,
    last: checked.last,
    tip,
    warnings,
    chained: true,
    signed: false,
    anchored: false,
    crosschecked: false,
    key_id: null,
  };
}

export async function stateShaOf(view: RefView): Promise<string | null> {
  if (view.commit === null) return null;
  const text = await view.read(STATE_FILE);
  return text === null ? null : sha256Text(text);
}

/** The checks of a verified replay beyond the chain: the tip's seal and the anchor. */
export async function beyondChain(
  view: RefView,
  checked: Extract<Checked, { ok: true }>,
  trust: TrustContext,
): Promise<Problem | null> {
  const lastSeq = checked.last?.seq ?? 0;
  if (trust.publicKey && view.commit !== null) {
    const why = sealProblem(
      trust.publicKey,
      trust.ref,
      view.message,
      parseAppendMessage(view.message),
      await view.read(STATE_FILE),
    );
    if (why) return { seq: lastSeq, reason: 'unsealed', detail: why };
  }
  const v = anchorVerdict(
    trust.anchor,
    { seq: lastSeq, hash: checked.last?.hash ?? null },
    checked.probeHash,
  );
  if (v === 'unknown' || !v.ok) {
    const detail = v === 'unknown' ? 'the event at the anchored seq is missing' : v.detail;
    return { seq: Math.min(lastSeq + 1, trust.anchor?.seq ?? 0), reason: 'rolled_back', detail };
  }
  return null;
}
