/**
 * The ids of a whole log for one question asked once, at the end: are they all distinct?
 *
 * `IdSet` answers at every insertion, and for a million ids each insertion is a cache miss in a table of
 * megabytes (and every growth rehashes it). When only the final answer matters (a verify that is redone with
 * `IdSet` whenever the answer is not a clear yes), it is cheaper to write a 64-bit digest per id one after the
 * other and sort the digests once: writes in order, then a radix sort that streams through the arrays.
 *
 * Distinct digests prove distinct ids; equal digests (a duplicate, or a collision of about one in 2^64 per
 * pair) only say "maybe", and the caller then takes the exact path.
 */
export class IdDigests {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(id: string): void {
    // Two independent 32-bit hashes over the code units in one pass: FNV-1a and a multiply-xorshift.
    let a = 0x811c9dc5;
    let b = 0x9747b28c ^ id.length;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    if (this.count === this.hi.length) {
      this.hi = doubled(this.hi);
      this.lo = doubled(this.lo);
    }
    this.hi[this.count] = mix(a);
    this.lo[this.count] = mix(b);
    this.count += 1;
  }

  /** True when no two digests are equal (so no two ids are); false means a duplicate is possible. */
  distinct(): boolean {
    const n = this.count;
    if (n < 2) return true;
    const hi = this.hi;
    const lo = this.lo;
    // LSD radix sort of the indices by `hi`, 11 bits a pass.
    let order = new Uint32Array(n);
    let spare = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const counts = new Uint32Array(2048);
    for (let shift = 0; shift < 32; shift += 11) {
      counts.fill(0);
      for (let i = 0; i < n; i++) {
        const k = ((hi[order[i] as number] as number) >>> shift) & 2047;
        counts[k] = (counts[k] as number) + 1;
      }
      let sum = 0;
      for (let k = 0; k < 2048; k++) {
        const c = counts[k] as number;
        counts[k] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const j = order[i] as number;
        const k = ((hi[j] as number) >>> shift) & 2047;
        const at = counts[k] as number;
        counts[k] = at + 1;
        spare[at] = j;
      }
      [order, spare] = [spare, order];
    }
    // Equal `hi` values are now adjacent; within such a run (rare, and short) every pair's `lo` is compared.
    for (let i = 1; i < n; i++) {
      const h = hi[order[i] as number];
      if (h !== hi[order[i - 1] as number]) continue;
      let start = i - 1;
      while (start > 0 && hi[order[start - 1] as number] === h) start -= 1;
      const l = lo[order[i] as number];
      for (let k = start; k < i; k++) if (lo[order[k] as number] === l) return false;
    }
    return true;
  }
}

function doubled(array: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(array.length * 2);
  next.set(array);
  return next;
}

/** A final mix (murmur3's), so that every bit of the digest depends on every unit. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
