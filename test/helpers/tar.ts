/** A hand-rolled tar writer for hostile archives (members real tar refuses to create, or sizes it cannot fake). */

export interface CraftedMember {
  name: string;
  type?: '0' | '1' | '2' | '5' | '3';
  body?: string;
  linkTarget?: string;
  /** Declared size when it differs from the body (a 10 GiB member holding 0 bytes). */
  declaredSize?: number;
}

function header(m: CraftedMember): Buffer {
  const h = Buffer.alloc(512);
  h.write(m.name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  const size = m.declaredSize ?? Buffer.byteLength(m.body ?? '');
  if (size < 0o77777777777) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  else {
    // GNU base-256 for sizes above 8 GiB.
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = v % 256;
      v = Math.floor(v / 256);
    }
  }
  h.write('00000000000\0', 136);
  h.write(m.type ?? '0', 156);
  if (m.linkTarget) h.write(m.linkTarget, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export function craftTar(members: CraftedMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(header(m));
    const body = Buffer.from(m.body ?? '');
    if (body.length > 0) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
