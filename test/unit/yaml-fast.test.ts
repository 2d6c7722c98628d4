import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { parseFastYaml } from '../../src/core/yaml-fast.js';

/** What the full library makes of `text`: its value, or 'error' when it reports any error or warning. */
function reference(text: string): { value: unknown } | 'error' {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return 'error';
  try {
    return { value: doc.toJS() };
  } catch {
    return 'error';
  }
}

/** The fast reader either declines or agrees with the library exactly. */
function agrees(text: string): boolean {
  const fast = parseFastYaml(text);
  if (fast === null) return true;
  const ref = reference(text);
  expect({ text, ref }).toEqual({ text, ref: { value: fast.value } });
  return true;
}

// --- documents built from pieces that matter to the reader ------------------------------------------------

const scalarText = fc.oneof(
  fc.constantFrom(
    'docs/**',
    'hello world',
    'true',
    'False',
    'null',
    '~',
    '',
    '0',
    '12',
    '-3',
    '007',
    '1.5',
    '0x1f',
    '.inf',
    '-',
    '- a',
    'a: b',
    'a #c',
    'a# c',
    '#c',
    '*x',
    '&a b',
    '!tag x',
    '"q"',
    "'s'",
    '"a \\" b"',
    '"\\u00e9\\n"',
    '"\\x41"',
    "'it''s'",
    "'open",
    '"open',
    '[a, b]',
    '["docs/**", \'x\']',
    '[]',
    '[a,]',
    '[a, [b]]',
    '{a: 1}',
    '{}',
    '|',
    '|-',
    '|+',
    '|2',
    '>',
    '@x',
    '`x`',
    '%x',
    '?x',
    ':x',
    'a:b',
    'x:',
    'Yes',
    '2026-11-26',
    '1_000',
    '+1',
    'é ü',
  ),
  fc.stringMatching(/^[a-z0-9 #:'"\-[\],|>*&!.]{0,12}$/),
);

const key = fc.oneof(
  fc.constantFrom(
    'id',
    'title',
    'tasks',
    'run',
    'a',
    'b',
    'true',
    'null',
    '__proto__',
    'x-y',
    'k_1',
    '1',
    '"q"',
  ),
  fc.stringMatching(/^[a-z_][a-z0-9_-]{0,5}$/),
);

type Tree =
  | { kind: 'scalar'; text: string }
  | { kind: 'map'; entries: Array<[string, Tree]> }
  | { kind: 'seq'; items: Tree[] };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('scalar' as const), text: scalarText }),
    fc.record({
      kind: fc.constant('map' as const),
      entries: fc.array(fc.tuple(key, tie('node')), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant('seq' as const),
      items: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).node;

const style = fc.record({
  step: fc.constantFrom(2, 2, 4, 1, 3),
  seqUnderKeyAtSameColumn: fc.boolean(),
  comment: fc.constantFrom('', '', ' # note', '  #x'),
  blank: fc.constantFrom('', '', '\n', '\n   \n', '\n# c\n'),
  literal: fc.constantFrom('', 'line one\nline two', 'a\n\n  indented\nb\n', '  lead\nx', '#not a comment'),
});

type Style = {
  step: number;
  seqUnderKeyAtSameColumn: boolean;
  comment: string;
  blank: string;
  literal: string;
};

function render(t: Tree, s: Style): string {
  const pad = (n: number) => ' '.repeat(n);
  const inline = (x: Tree, col: number): string => {
    if (x.kind !== 'scalar') return '';
    if (x.text.startsWith('|') && s.literal) {
      const body = s.literal
        .split('\n')
        .map((l) => (l === '' ? '' : pad(col + s.step) + l))
        .join('\n');
      return `${x.text}\n${body}`;
    }
    return x.text;
  };
  const block = (x: Tree, col: number): string[] => {
    if (x.kind === 'map') {
      return x.entries.flatMap(([k, v]) => {
        if (v.kind === 'scalar')
          return [`${pad(col)}${k}: ${inline(v, col)}${v.text.startsWith('|') ? '' : s.comment}`];
        const inner = v.kind === 'seq' && s.seqUnderKeyAtSameColumn ? col : col + s.step;
        return [`${pad(col)}${k}:${s.comment}`, ...block(v, inner), ...(s.blank ? [s.blank] : [])];
      });
    }
    if (x.kind === 'seq') {
      return x.items.flatMap((item) => {
        if (item.kind === 'scalar') return [`${pad(col)}- ${inline(item, col)}`];
        const lines = block(item, col + 2);
        const first = lines[0] ?? '';
        return [`${pad(col)}- ${first.slice(col + 2)}`, ...lines.slice(1)];
      });
    }
    return [`${pad(col)}${x.text}`];
  };
  return `${block(t, 0).join('\n')}\n`;
}

describe('parseFastYaml', () => {
  it('reads a typical backlog exactly as yaml does', () => {
    const text = `# The backlog
version: 1
tasks:
  - id: docs-guide
    title: "Write the guide: part 1"
    description: |
      Explain the loop.

      With an example.
    allowed_paths: ["docs/**", 'docs/img/*.png']
    dependencies:
    - other
    max_attempts: 3
    ready: true
    run:
      - echo hi > docs/guide.md   # a comment
  - id: other
    title: Other
    allowed_paths: [docs/other.md]
    status: done
`;
    const fast = parseFastYaml(text);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(reference(text));
  });

  it('declines what it does not read exactly, and the empty file is null', () => {
    expect(parseFastYaml('')).toEqual({ value: null });
    expect(parseFastYaml('# only a comment\n')).toEqual({ value: null });
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: >\n  folded\n',
      'a: 1.5\n',
      'a: 1\na: 2\n',
      'a:\n\t- x\n',
      'a: b\n  c\n',
      '---\na: 1\n',
      'a: {b: 1}\n',
      'just a scalar\n',
      'a: "unclosed\n',
    ]) {
      expect({ text, fast: parseFastYaml(text) }).toEqual({ text, fast: null });
    }
  });

  it('agrees with yaml on every fixture of the validate tests', () => {
    const root = 'test/fixtures/validate';
    let read = 0;
    for (const dir of readdirSync(root)) {
      const lev = join(root, dir, '.leviathan');
      if (!statSync(join(root, dir)).isDirectory()) continue;
      for (const f of ['backlog.yaml', 'config.yaml']) {
        let text: string;
        try {
          text = readFileSync(join(lev, f), 'utf8');
        } catch {
          continue;
        }
        agrees(text);
        if (parseFastYaml(text) !== null) read += 1;
      }
    }
    expect(read).toBeGreaterThan(10);
  });

  it('agrees with yaml on generated documents (or declines them)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(tree, style, (t, s) => {
        const text = render(t, s);
        if (parseFastYaml(text) !== null) accepted += 1;
        return agrees(text);
      }),
      { numRuns: 1500 },
    );
    // The generator must exercise the reader, not only its refusals.
    expect(accepted).toBeGreaterThan(100);
  });

  it('agrees with yaml on mutated backlogs (or declines them)', () => {
    const base = `version: 1\ntasks:\n  - id: a\n    title: "T: 1"\n    description: |\n      one\n\n      two\n    allowed_paths: [docs/a.md, "docs/b.md"]\n    run:\n      - echo a\n  - id: b\n    title: B # c\n    dependencies: [a]\n`;
    const edit = fc.record({
      at: fc.nat({ max: base.length }),
      del: fc.nat({ max: 3 }),
      ins: fc.constantFrom(
        '',
        ' ',
        '  ',
        '\n',
        '\n  ',
        '-',
        '- ',
        ':',
        ': ',
        '#',
        ' #',
        '"',
        "'",
        '[',
        ']',
        ',',
        '|',
        '|-',
        '\\',
        'x',
        '1',
        '*',
        '&',
        '!',
        '{',
        '}',
      ),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let text = base;
        for (const e of edits) {
          const at = Math.min(e.at, text.length);
          text = text.slice(0, at) + e.ins + text.slice(at + e.del);
        }
        return agrees(text);
      }),
      { numRuns: 1500 },
    );
  });
});
