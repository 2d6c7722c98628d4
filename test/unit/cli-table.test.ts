import { describe, expect, it } from '@jest/globals';
import { createProgress } from '../../src/cli/progress.js';
import { renderTable } from '../../src/cli/table.js';

describe('renderTable', () => {
  it('aligns columns to the widest cell and underlines the header', () => {
    const out = renderTable(
      ['task', 'state'],
      [
        ['docs-guide', 'open'],
        ['a', 'blocked'],
      ],
    );
    expect(out.split('\n')).toEqual([
      'task        state',
      '----------  -------',
      'docs-guide  open',
      'a           blocked',
    ]);
  });

  it('renders a header alone when there are no rows', () => {
    expect(renderTable(['x'], [])).toBe('x\n-');
  });
});

describe('createProgress', () => {
  function sink(isTTY: boolean) {
    const chunks: string[] = [];
    const stream = { isTTY, write: (c: string) => chunks.push(c) } as unknown as NodeJS.WriteStream;
    return { chunks, stream };
  }

  it('writes plain timestamped lines when not on a terminal', () => {
    const { chunks, stream } = sink(false);
    const p = createProgress(stream, true, () => new Date('2026-11-26T10:11:12Z'));
    p.step('fetching');
    p.done();
    expect(chunks).toEqual(['[10:11:12] fetching\n']);
  });

  it('prints nothing when disabled (e.g. --json)', () => {
    const { chunks, stream } = sink(false);
    const p = createProgress(stream, false);
    p.step('x');
    expect(chunks).toEqual([]);
  });
});
