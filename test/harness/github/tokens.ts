/**
 * Tokens with permissions, as GitHub mints them per job: `GITHUB_TOKEN` carries exactly the job's
 * `permissions:`, an App installation token what the App was granted. The emulator answers a request the token
 * does not allow with 403 "Resource not accessible by integration"; the git server refuses a push without
 * `contents: write` with 403, as GitHub does.
 *
 *   const authority = new TokenAuthority();
 *   const token = authority.mint('job:agent', { contents: 'read' });
 *   authority.allows(token, 'pulls/create'); // false
 */
import { randomBytes } from 'node:crypto';

export type Level = 'none' | 'read' | 'write';
export type Grants = Record<string, Level>;

export interface MintedToken {
  name: string;
  token: string;
  permissions: Grants;
}

/** The permission each emulated operation needs (scope and level); `metadata: read` is always granted. */
const NEEDS: Record<string, [scope: string, level: Exclude<Level, 'none'>]> = {
  'repos/get': ['metadata', 'read'],
  'pulls/list': ['pull-requests', 'read'],
  'pulls/get': ['pull-requests', 'read'],
  'pulls/create': ['pull-requests', 'write'],
  'pulls/update': ['pull-requests', 'write'],
  'pulls/merge': ['contents', 'write'],
  'pulls/request-reviewers': ['pull-requests', 'write'],
  'issues/get': ['issues', 'read'],
  'issues/list-for-repo': ['issues', 'read'],
  'issues/list-comments': ['issues', 'read'],
  'issues/create': ['issues', 'write'],
  'issues/update': ['issues', 'write'],
  'issues/create-comment': ['issues', 'write'],
  'issues/add-labels': ['issues', 'write'],
  'issues/set-labels': ['issues', 'write'],
  'actions/create-workflow-dispatch': ['actions', 'write'],
  'actions/list-workflow-runs-for-repo': ['actions', 'read'],
  'actions/get-workflow-run': ['actions', 'read'],
};

function rank(level: Level | undefined): number {
  return level === 'write' ? 2 : level === 'read' ? 1 : 0;
}

export class TokenAuthority {
  readonly minted: MintedToken[] = [];

  mint(name: string, permissions: Grants): string {
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    this.minted.push({ name, token, permissions: { metadata: 'read', ...permissions } });
    return token;
  }

  lookup(token: string | null): MintedToken | undefined {
    return token ? this.minted.find((m) => m.token === token) : undefined;
  }

  /** The level a token has on a scope (`none` for a token this authority never minted). */
  level(token: string | null, scope: string): Level {
    return this.lookup(token)?.permissions[scope] ?? 'none';
  }

  /**
   * Whether a token may call an operation. Issue operations also accept `pull-requests` (GitHub lets the
   * pull-requests permission label and comment on pull requests through the issues API).
   */
  allows(token: string | null, operation: string): boolean {
    const grant = this.lookup(token);
    if (!grant) return false;
    const [scope, level] = NEEDS[operation] ?? ['admin', 'write'];
    const has = (s: string) => rank(grant.permissions[s]) >= rank(level);
    return has(scope) || (scope === 'issues' && has('pull-requests'));
  }

  /** Tokens minted with write access to any scope (what a hostile job must never get hold of). */
  writeTokens(): MintedToken[] {
    return this.minted.filter((m) => Object.values(m.permissions).includes('write'));
  }
}
