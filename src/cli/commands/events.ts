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
  /** Every detail whole, one field a line (the table cuts long ones). */
  wide?: boolean;
}

/** Every event (verified), optionally only those of one task. */
export async function listEvents(log: EventLog, options: EventsOptions = {}): Promise<LeviathanEvent[]> {
  const { events } = await userFacing(() => log.readAll());
  return options.task === undefined ? events : events.filter((e) => e.task === options.task);
}

/** The data fields worth showing (empty values left out), each as key and text. */
function fields(e: LeviathanEvent): Array<[string, string]> {
  return Object.entries(e.data as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

function summary(e: LeviathanEvent): string {
  const text = fields(e)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
    .replace(/\s+/g, ' ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * `events --wide`: every event as its row, then each data field whole on its own line (a multi-line value,
 * such as a failed command's output tail, below it line by line), so nothing is cut.
 */
export function formatEventsWide(events: readonly LeviathanEvent[]): string {
  if (events.length === 0) return 'no events';
  const out: string[] = [];
  for (const e of events) {
    const who = [e.task, e.attempt].filter(Boolean).join(' ');
    out.push(`${e.seq}  ${e.ts}  ${e.type}${who ? `  ${who}` : ''}  (${e.actor.kind})`);
    for (const [key, value] of fields(e)) {
      if (!value.includes('\n')) {
        out.push(`    ${key}: ${value}`);
        continue;
      }
      out.push(`    ${key}:`);
      for (const line of value.replace(/\n$/, '').split('\n')) out.push(`      | ${line}`);
    }
  }
  return out.join('\n');
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
    out.out(options.wide ? formatEventsWide(events) : formatEventTable(events));
  }
  return events;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('show the event log (verified first)')
    .option('--task <id>', 'only the events of this task')
    .option('--wide', 'every detail whole (the table cuts long ones; --json never does)')
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'NDJSON, one event per line')
    .action(async (opts: { task?: string; dir: string; json?: boolean; wide?: boolean }) => {
      await runEvents(
        openEventLog(opts.dir),
        { ...(opts.task === undefined ? {} : { task: opts.task }), wide: Boolean(opts.wide) },
        processOutput(Boolean(opts.json)),
      );
    });
}
