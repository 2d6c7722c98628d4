import type { Command } from 'commander';
import type { LeviathanEvent } from '../../core/events.js';
import { EventLog } from '../../store/event-log.js';
import { sealerFromEnv } from '../../store/log-seal.js';
import { type Output, processOutput } from '../output.js';
import { renderTable } from '../table.js';
import { LOG_FORGE_HELP, parseForgeKind } from '../target.js';
import { userFacing } from '../user-errors.js';

/**
 * The event log of the repository in `dir`. The token comes from `LEVIATHAN_TOKEN` only: a general token such
 * as GITHUB_TOKEN is not sent to whatever host `origin` names. Without one, the checkout's own credentials
 * (actions/checkout's extraheader, credential helpers) are used.
 */
export function openEventLog(dir: string, token = process.env.LEVIATHAN_TOKEN): EventLog {
  return new EventLog({ dir, sealer: sealerFromEnv(), ...(token ? { token } : {}) });
}

export interface EventsOptions {
  task?: string;
}

/** Every event (verified), optionally only those of one task. */
export async function listEvents(log: EventLog, options: EventsOptions = {}): Promise<LeviathanEvent[]> {
  const { events } = await userFacing(() => log.readAll());
  return options.task === undefined ? events : events.filter((e) => e.task === options.task);
}

function summary(e: LeviathanEvent): string {
  const parts = Object.entries(e.data as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const text = parts.join(' ').replace(/\s+/g, ' ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** The readable table: one row per event. */
export function formatEventTable(events: readonly LeviathanEvent[]): string {
  if (events.length === 0) return 'no events';
  return renderTable(
    ['SEQ', 'TIME', 'TYPE', 'TASK', 'ATTEMPT', 'ACTOR', 'DETAILS'],
    events.map((e) => [
      String(e.seq),
      `${e.ts.slice(0, 10)} ${e.ts.slice(11, 19)}Z`,
      e.type,
      e.task ?? '',
      e.attempt ?? '',
      e.actor.kind,
      summary(e),
    ]),
  );
}

export async function runEvents(
  log: EventLog,
  options: EventsOptions,
  out: Output,
): Promise<LeviathanEvent[]> {
  const events = await listEvents(log, options);
  if (out.json) {
    for (const e of events) out.out(JSON.stringify(e));
  } else {
    out.out(formatEventTable(events));
  }
  return events;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('show the event log (verified first)')
    .option('--task <id>', 'only the events of this task')
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'NDJSON, one event per line')
    .action(async (opts: { task?: string; dir: string; json?: boolean }) => {
      await runEvents(
        openEventLog(opts.dir),
        opts.task === undefined ? {} : { task: opts.task },
        processOutput(Boolean(opts.json)),
      );
    });
}
