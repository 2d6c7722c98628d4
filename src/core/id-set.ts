/**
 * A set of strings for one job: the event ids of a whole log, added once each, asked about rarely.
 *
 * A full verify adds every id of the log (a million and more). A `Set` of that size costs about a microsecond
 * per insertion — its chains lead through the key strings themselves, scattered over the heap. This set keeps
 * a 32-bit hash and an index per slot in one flat Int32Array (open addressing, linear probing), so an
 * insertion touches one cache line; the strings are only compared when the hashes are equal (a duplicate, or
 * a rare collision), and growing rehashes from the stored hashes without touching a string.
 *
 * The ids themselves are kept as UTF-16 code units in one growing Uint16Array, not as strings: a million
 * retained strings would cost the garbage collector more than the set itself (each is copied out of the
 * young generation and then marked on every full collection), and the id strings of a verify are captures
 * of the lines read, garbage as soon as the line is checked.
 */
export class IdSet {
  /** Pairs [hash, index + 1] per slot; index + 1 = 0 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  /** The code units of every id, one after the other. */
  private units: Uint16Array;
  /** Where id i starts in `units` (`starts[i + 1]` is where it ends). */
  private starts: Int32Array;
  private count = 0;

  constructor(capacity = 1024) {
    this.units = new Uint16Array(Math.max(16, capacity * 8));
    this.starts = new Int32Array(Math.max(16, capacity + 1));
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `id`; false if it was already there. */
  add(id: string): boolean {
    const from = this.starts[this.count] as number;
    const end = from + id.length;
    if (end > this.units.length) this.units = grown(this.units, end);
    // The id is copied to where it would be kept while it is hashed: one pass over it.
    const units = this.units;
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      units[from + i] = c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    h = mix(h);
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const at = slots[2 * i + 1] as number;
      if (at === 0) break;
      if (slots[2 * i] === h && this.equals(at - 1, from, id.length)) return false;
      i = (i + 1) & mask;
    }
    this.count += 1;
    if (this.count + 1 > this.starts.length) this.starts = grown(this.starts, this.count + 1);
    this.starts[this.count] = end;
    slots[2 * i] = h;
    slots[2 * i + 1] = this.count;
    // At most half full, so probes stay short.
    if (this.count * 2 > mask + 1) this.grow();
    return true;
  }

  has(id: string): boolean {
    const h = idHash(id);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const at = slots[2 * i + 1] as number;
      if (at === 0) return false;
      if (slots[2 * i] === h && this.matches(at - 1, id)) return true;
    }
  }

  /** Whether id `index` has the `length` code units at `from` in `units`. */
  private equals(index: number, from: number, length: number): boolean {
    const start = this.starts[index] as number;
    if ((this.starts[index + 1] as number) - start !== length) return false;
    const units = this.units;
    for (let k = 0; k < length; k++) if (units[start + k] !== units[from + k]) return false;
    return true;
  }

  /** Whether id `index` is `id`. */
  private matches(index: number, id: string): boolean {
    const start = this.starts[index] as number;
    if ((this.starts[index + 1] as number) - start !== id.length) return false;
    const units = this.units;
    for (let k = 0; k < id.length; k++) if (units[start + k] !== id.charCodeAt(k)) return false;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const size = (this.mask + 1) * 2;
    const slots = new Int32Array(size * 2);
    const mask = size - 1;
    for (let j = 0; j < old.length; j += 2) {
      const at = old[j + 1] as number;
      if (at === 0) continue;
      const h = old[j] as number;
      let i = h & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = h;
      slots[2 * i + 1] = at;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function grown<T extends Uint16Array | Int32Array>(array: T, atLeast: number): T {
  let size = array.length * 2;
  while (size < atLeast) size *= 2;
  const next = new (array.constructor as new (n: number) => T)(size);
  next.set(array);
  return next;
}

/** A final mix, so that the low bits (the slot) depend on every unit. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  return x ^ (x >>> 13);
}

/** FNV-1a over UTF-16 code units, with a final mix so that the low bits (the slot) depend on every unit. */
export function idHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}
