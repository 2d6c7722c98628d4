import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { markInDocument, markInItem, markTaskDone } from '../../src/core/backlog-writeback.js';

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

describe("markTaskDone on a task's own lines", () => {
  const shapes: Record<string, string> = {
    indented: BACKLOG,
    'sequence at column 0, version last':
      'tasks:\n- id: a\n  title: A\n- id: b\n  title: B\n  status: pending\nversion: 1\n',
    'comment at column 0 inside an item':
      'version: 1\ntasks:\n  - id: a\n# a note\n    title: A\n    status: pending\n  - id: b\n    title: B\n',
    'block scalars, kept and clipped':
      'version: 1\ntasks:\n  - id: a\n    title: A\n    description: |+\n      keep\n\n  - id: b\n    title: B\n    description: |\n      - id: c\n      - not an item\n\n',
    'no final newline': 'version: 1\ntasks:\n  - id: a\n    title: A\n  - id: b\n    title: B',
    'id not first, blank lines between':
      'version: 1\ntasks:\n\n  - title: A\n    id: a\n\n\n  - title: B\n    id: b\n    status: blocked\n',
  };
  for (const [name, text] of Object.entries(shapes)) {
    it(`gives the whole document's edit (${name})`, () => {
      const ids = [...text.matchAll(/id: (\w+)/g)].map((m) => m[1] as string).filter((id) => id !== 'c');
      for (const id of ids) {
        const quick = markInItem(text, id);
        expect(quick).not.toBeNull();
        expect(quick).toBe(markInDocument(text, id));
        expect(parse(quick as string).tasks.find((t: { id: string }) => t.id === id).status).toBe('done');
      }
    });
  }

  it('leaves what the plain reader does not read, or a task it cannot place, to the whole document', () => {
    const flow = 'version: 1\ntasks:\n  - { id: a, title: A }\n';
    expect(markInItem(flow, 'a')).toBeNull();
    expect(markTaskDone(flow, 'a')).toBe('version: 1\ntasks:\n  - { id: a, title: A, status: done }\n');
    const anchored = 'version: 1\ntasks:\n  - &x { id: a, title: A }\n  - id: b\n    title: B\n';
    expect(markInItem(anchored, 'b')).toBeNull();
    expect(markTaskDone(anchored, 'b')).toBe(markInDocument(anchored, 'b'));
    expect(markInItem(BACKLOG, 'missing')).toBeNull();
    expect(() => markTaskDone(BACKLOG, 'missing')).toThrow('task missing is not in the backlog');
  });
});
