/**
 * A set of strings for one job: the event ids of a whole log, added once each, asked about rarely.
 *
 * A full verify adds every id of the log (a million and more). A `Set` of that size costs about a microsecond
 * per insertion — its chains lead through the key strings themselves, scattered over the heap. This set keeps
 * a 32-bit hash and an index per slot in one flat Int32Array (open addressing, linear probing), so an
 * insertion touches one cache line; the strings are only compared when the hashes are equal (a duplicate, or
 * a rare collision), and growing rehashes from the stored hashes without touching a string.
 */
export class IdSet {
  /** Pairs [hash, index + 1] per slot; index + 1 = 0 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private readonly ids: string[] = [];

  constructor(capacity = 1024) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Adds `id`; false if it was already there. */
  add(id: string): boolean {
    const h = idHash(id);
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const at = slots[2 * i + 1] as number;
      if (at === 0) break;
      if (slots[2 * i] === h && this.ids[at - 1] === id) return false;
      i = (i + 1) & mask;
    }
    this.ids.push(id);
    slots[2 * i] = h;
    slots[2 * i + 1] = this.ids.length;
    // At most half full, so probes stay short.
    if (this.ids.length * 2 > mask + 1) this.grow();
    return true;
  }

  has(id: string): boolean {
    const h = idHash(id);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const at = slots[2 * i + 1] as number;
      if (at === 0) return false;
      if (slots[2 * i] === h && this.ids[at - 1] === id) return true;
    }
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

/** FNV-1a over UTF-16 code units, with a final mix so that the low bits (the slot) depend on every unit. */
export function idHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
