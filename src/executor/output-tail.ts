/** Default size of the output kept for events, PR bodies and summaries (SPEC §3.2 step 5: "the last 4 KB"). */
export const OUTPUT_TAIL_BYTES = 4096;

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/**
 * The last `maxBytes` bytes of `buf` as a string that is never longer than `maxBytes` in UTF-8 and never
 * starts or ends with half a character (a cut multi-byte sequence would decode to U+FFFD, which is 3 bytes).
 */
export function utf8Tail(buf: Buffer, maxBytes = OUTPUT_TAIL_BYTES): string {
  let start = Math.max(0, buf.length - maxBytes);
  while (start < buf.length && isContinuationByte(buf[start]!)) start++;
  let end = buf.length;
  // Drop an incomplete sequence at the end (a process killed mid-write).
  let lead = end - 1;
  while (lead >= start && end - lead < 4 && isContinuationByte(buf[lead]!)) lead--;
  if (lead >= start) {
    const b = buf[lead]!;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (end - lead < need) end = lead;
  }
  const text = buf.subarray(start, end).toString('utf8');
  // Invalid bytes (binary output) decode to 3-byte U+FFFD, so the text can outgrow the bound: cut it again.
  return Buffer.byteLength(text, 'utf8') > maxBytes ? lastBytesOfString(text, maxBytes) : text;
}

/** The longest suffix of `text` whose UTF-8 encoding fits in `maxBytes`, cut only between code points. */
function lastBytesOfString(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const unit = text.charCodeAt(i - 1);
    const pair = unit >= 0xdc00 && unit <= 0xdfff && i > 1 && isHighSurrogate(text.charCodeAt(i - 2));
    const size = pair ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i -= pair ? 2 : 1;
  }
  return text.slice(i);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * Extra bytes kept before the tail and redacted with it, so a secret that straddles the cut is still
 * recognised whole and not left half visible at the start of the tail.
 */
const REDACT_MARGIN_BYTES = 1024;

/** Keeps only the last bytes of a stream of chunks, in bounded memory. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly keepBytes: number;

  constructor(private readonly outBytes = OUTPUT_TAIL_BYTES) {
    this.keepBytes = outBytes + REDACT_MARGIN_BYTES;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (buf.length === 0) return;
    this.chunks.push(buf);
    this.size += buf.length;
    // Keep a few extra bytes so a character cut at the boundary can be dropped cleanly later.
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.keepBytes + 4) {
      this.size -= this.chunks.shift()!.length;
    }
    if (this.chunks.length > 32) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all.subarray(Math.max(0, all.length - this.keepBytes - 4))];
      this.size = this.chunks[0]!.length;
    }
  }

  /** The last bytes, redacted over the wider window first when `redact` is given. */
  toString(redact?: (text: string) => string): string {
    const all = Buffer.concat(this.chunks);
    if (!redact) return utf8Tail(all, this.outBytes);
    const wide = utf8Tail(all, this.keepBytes);
    // Cut where the margin began in the original, so the margin itself never shows.
    const cutAt = Buffer.byteLength(wide, 'utf8') > this.outBytes;
    const redacted = redact(wide);
    return cutAt ? utf8Tail(Buffer.from(redacted, 'utf8'), this.outBytes) : redacted;
  }
}

/** Longest line kept back waiting for its end; longer output is passed on (minus a margin) unterminated. */
const MAX_PENDING_CHARS = 16_384;

/**
 * Live output in whole lines, each redacted: a secret split between two chunks of a pipe is redacted as a
 * whole. Without a redactor it passes chunks straight through.
 */
export class LineRedactor {
  private pending = '';

  constructor(private readonly redact?: (text: string) => string) {}

  write(text: string): string {
    if (!this.redact) return text;
    this.pending += text;
    const nl = this.pending.lastIndexOf('\n');
    let out = '';
    if (nl >= 0) {
      out = this.pending.slice(0, nl + 1);
      this.pending = this.pending.slice(nl + 1);
    }
    if (this.pending.length > MAX_PENDING_CHARS) {
      const keep = REDACT_MARGIN_BYTES;
      out += this.pending.slice(0, this.pending.length - keep);
      this.pending = this.pending.slice(-keep);
    }
    return out === '' ? '' : this.redact(out);
  }

  end(text = ''): string {
    if (!this.redact) return text;
    const out = this.pending + text;
    this.pending = '';
    return out === '' ? '' : this.redact(out);
  }
}
