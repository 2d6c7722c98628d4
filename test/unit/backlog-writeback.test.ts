import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { markTaskDone } from '../../src/core/backlog-writeback.js';

const BACKLOG = `# The team's backlog
version: 1
tasks:
  # first task
  - id: a # the a
    title: A
    allowed_paths: [docs/**]
  - id: b
    title: "B"
    status: pending # waiting
    allowed_paths:
      - docs/b.md
  - title: C first
    id: c
    allowed_paths: [docs/c.md]`;

describe('markTaskDone', () => {
  it('replaces an existing status in place and keeps its comment', () => {
    const out = markTaskDone(BACKLOG, 'b');
    expect(out).toBe(BACKLOG.replace('status: pending # waiting', 'status: done # waiting'));
  });

  it('inserts status after the id line at the same indentation when missing', () => {
    const out = markTaskDone(BACKLOG, 'a');
    expect(out).toBe(BACKLOG.replace('  - id: a # the a\n', '  - id: a # the a\n    status: done\n'));
    expect(parse(out).tasks[0].status).toBe('done');
  });

  it('handles a task whose id is not the first key and the last line without newline', () => {
    const out = markTaskDone(BACKLOG, 'c');
    expect(parse(out).tasks[2]).toEqual({
      title: 'C first',
      id: 'c',
      status: 'done',
      allowed_paths: ['docs/c.md'],
    });
    expect(out.split('\n').length).toBe(BACKLOG.split('\n').length + 1);
  });

  it('changes only the one task', () => {
    const parsed = parse(markTaskDone(BACKLOG, 'b'));
    expect(parsed.tasks.map((t: { status?: string }) => t.status)).toEqual([undefined, 'done', undefined]);
  });

  it('is idempotent', () => {
    const once = markTaskDone(BACKLOG, 'a');
    expect(markTaskDone(once, 'a')).toBe(once);
  });

  it('rejects an unknown task and invalid YAML', () => {
    expect(() => markTaskDone(BACKLOG, 'zzz')).toThrow('task zzz is not in the backlog');
    expect(() => markTaskDone('tasks: [', 'a')).toThrow('not valid YAML');
  });
});

describe('markTaskDone on flow mappings', () => {
  it.each([
    [
      'tasks:\n  - { id: a, title: A, allowed_paths: [docs/**] }\n',
      '{ id: a, title: A, allowed_paths: [docs/**], status: done }',
    ],
    ['tasks:\n  - {id: a, title: A,}\n', '{id: a, title: A, status: done}'],
    ['tasks: [{id: a, title: A}, {id: b, title: B}]\n', '{id: a, title: A, status: done}, {id: b'],
    ['tasks:\n  - { id: a,\n      title: A\n    }\n', 'title: A, status: done\n    }'],
  ])('writes status back into %j', (text, expected) => {
    const out = markTaskDone(text, 'a');
    expect(out).toContain(expected);
    const tasks = (parse(out) as { tasks: Array<Record<string, unknown>> }).tasks;
    expect(tasks[0]).toMatchObject({ id: 'a', status: 'done' });
    expect(tasks.slice(1).every((t) => t.status === undefined)).toBe(true);
  });
});
