/**
 * Writer for the SSH data types of RFC 4251 section 5. Grows one buffer; `finish()` returns a view
 * of exactly the bytes written.
 */
const utf8 = new TextEncoder();

export class SshWriter {
  private buf: Uint8Array;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private ensure(n: number): void {
    const needed = this.length + n;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const o = this.length;
    b[o] = (v >>> 24) & 0xff;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
    this.length += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.uint32(Number((v >> 32n) & 0xffffffffn));
    return this.uint32(Number(v & 0xffffffffn));
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  string(v: Uint8Array | string): this {
    const bytes = typeof v === 'string' ? utf8.encode(v) : v;
    this.uint32(bytes.length);
    return this.raw(bytes);
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /** An mpint from a non-negative bigint (RFC 4251 section 5). */
  mpint(v: bigint): this {
    if (v < 0n) throw new RangeError('negative mpint');
    return this.mpintFromBytes(bigintToBytes(v));
  }

  /** An mpint from unsigned big-endian magnitude bytes (leading zeros are stripped). */
  mpintFromBytes(magnitude: Uint8Array): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const m = magnitude.subarray(start);
    const pad = m.length > 0 && (m[0]! & 0x80) !== 0 ? 1 : 0;
    this.uint32(m.length + pad);
    if (pad) this.byte(0);
    return this.raw(m);
  }

  get size(): number {
    return this.length;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export function bigintToBytes(v: bigint, length?: number): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (v === 0n) hex = '';
  const n = hex.length / 2;
  const out = new Uint8Array(length ?? n);
  const offset = out.length - n;
  if (offset < 0) throw new RangeError('bigint does not fit');
  for (let i = 0; i < n; i++) out[offset + i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Encode a single string field (uint32 length + bytes). */
export function encodeString(v: Uint8Array | string): Uint8Array {
  return new SshWriter().string(v).finish();
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
