import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseDocument,
  type YAMLError,
} from 'yaml';

/** One step of a path into a document: a mapping key or a list index (as zod reports them). */
export type PathSegment = string | number;

/** 1-based, like editors and `file:line:col`. */
export interface Position {
  line: number;
  column: number;
}

/** `['tasks', 2, 'allowed_paths', 0]` → `tasks[2].allowed_paths[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function keyName(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  if (key === null || key === undefined) return undefined;
  return String(key);
}

interface Lookup {
  /** The deepest node reached (the value at `path` when `found`). */
  node: Node | null;
  /** The key node of the last mapping step taken, if any. */
  key: Node | null;
  found: boolean;
}

/** Where paths of a document are in its text (what diagnostics need). */
export interface Positions {
  valueAt(path: readonly PathSegment[]): Position;
  keyAt(path: readonly PathSegment[]): Position;
  has(path: readonly PathSegment[]): boolean;
}

/**
 * Positions of a document that was read without them (the fast path): the positioned parse runs only when a
 * diagnostic first asks where something is, so a valid file never pays for it.
 */
export class LazyPositions implements Positions {
  private parsed: PositionedYaml | null = null;

  constructor(private readonly text: string) {}

  private get yaml(): PositionedYaml {
    this.parsed ??= new PositionedYaml(this.text);
    return this.parsed;
  }

  valueAt(path: readonly PathSegment[]): Position {
    return this.yaml.valueAt(path);
  }

  keyAt(path: readonly PathSegment[]): Position {
    return this.yaml.keyAt(path);
  }

  has(path: readonly PathSegment[]): boolean {
    return this.yaml.has(path);
  }
}

/**
 * A YAML document parsed with source ranges kept, so that a path reported by schema validation can be turned
 * back into the line and column a user should look at.
 */
export class PositionedYaml implements Positions {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    // prettyErrors off: we format positions ourselves and do not want source excerpts in messages.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  get errors(): readonly YAMLError[] {
    return this.doc.errors;
  }

  get warnings(): readonly YAMLError[] {
    return this.doc.warnings;
  }

  /** True when the file holds no value at all (empty, or only comments). */
  get isEmpty(): boolean {
    const c = this.doc.contents;
    return c === null || (isScalar(c) && c.value === null && c.range[0] === c.range[1]);
  }

  positionOf(offset: number): Position {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line, column: col };
  }

  /** Where the value at `path` starts; falls back to its key, then to the deepest ancestor that exists. */
  valueAt(path: readonly PathSegment[]): Position {
    const hit = this.lookup(path);
    const node = hit.node;
    // An empty value (`title:`) has a zero-length range after the colon; the key is the better spot.
    if (hit.key && (node === null || (isScalar(node) && node.range && node.range[0] === node.range[1]))) {
      return this.start(hit.key);
    }
    return this.start(node ?? hit.key);
  }

  /** Where the key of the last segment of `path` starts (for unknown keys); falls back like `valueAt`. */
  keyAt(path: readonly PathSegment[]): Position {
    const hit = this.lookup(path);
    if (hit.found && hit.key) return this.start(hit.key);
    return this.valueAt(path);
  }

  /** Whether `path` exists in the document. */
  has(path: readonly PathSegment[]): boolean {
    return this.lookup(path).found;
  }

  private start(node: Node | null): Position {
    const offset = (node as ParsedNode | null)?.range?.[0];
    return offset === undefined ? { line: 1, column: 1 } : this.positionOf(offset);
  }

  private deref(node: Node | null): Node | null {
    if (node && isAlias(node)) {
      const target = node.resolve(this.doc);
      return (target as Node | undefined) ?? null;
    }
    return node;
  }

  private lookup(path: readonly PathSegment[]): Lookup {
    let node = this.doc.contents as Node | null;
    let key: Node | null = null;
    for (const seg of path) {
      const here = this.deref(node);
      if (isMap(here)) {
        const pair = here.items.find((p) => keyName(p.key) === String(seg));
        if (!pair) return { node: here, key: null, found: false };
        key = (pair.key as Node | null) ?? null;
        node = (pair.value as Node | null) ?? null;
      } else if (isSeq(here) && typeof seg === 'number') {
        const item = here.items[seg] as Node | undefined;
        if (item === undefined) return { node: here, key: null, found: false };
        key = null;
        node = item;
      } else {
        return { node: here, key, found: false };
      }
    }
    return { node, key, found: true };
  }
}
