/**
 * Concurrency groups as GitHub runs them: one job (or run) in progress per group, at most one pending; a newer
 * pending one replaces (cancels) the older; `cancel-in-progress` cancels the running one instead of waiting.
 */

interface Holder {
  done: Promise<void>;
  cancel: () => void;
}

interface Waiter {
  admit: () => void;
  cancel: () => void;
}

export class ConcurrencyGroups {
  private readonly running = new Map<string, Holder>();
  private readonly pending = new Map<string, Waiter>();
  /** What happened, in order: `run <group>`, `queue <group>`, `replace <group>`, `release <group>`. */
  readonly history: string[] = [];

  /**
   * Waits for the group. Resolves `true` when admitted (call `release` when done), `false` when this entry was
   * replaced by a newer pending one (GitHub cancels it).
   */
  async acquire(group: string, cancelInProgress: boolean, onCancel: () => void): Promise<boolean> {
    const holder = this.running.get(group);
    if (holder && cancelInProgress) holder.cancel();
    if (!this.running.has(group)) {
      this.hold(group, onCancel);
      return true;
    }
    if (this.pending.has(group)) this.history.push(`replace ${group}`);
    this.pending.get(group)?.cancel();
    this.history.push(`queue ${group}`);
    return new Promise<boolean>((resolve) => {
      this.pending.set(group, {
        admit: () => {
          this.hold(group, onCancel);
          resolve(true);
        },
        cancel: () => resolve(false),
      });
    });
  }

  release(group: string): void {
    const holder = this.running.get(group) as (Holder & { finish?: () => void }) | undefined;
    this.running.delete(group);
    this.history.push(`release ${group}`);
    holder?.finish?.();
    const next = this.pending.get(group);
    if (next) {
      this.pending.delete(group);
      next.admit();
    }
  }

  private hold(group: string, cancel: () => void): void {
    this.history.push(`run ${group}`);
    let finish!: () => void;
    const done = new Promise<void>((r) => {
      finish = r;
    });
    this.running.set(group, Object.assign({ done, cancel }, { finish }));
  }
}
