/**
 * A small, strict DER reader and writer (ITU-T X.690 section 10, Distinguished Encoding Rules)
 * for the ASN.1 structures of key files: PKCS#1 (RFC 8017 appendix A), SEC1 (RFC 5915), PKCS#8
 * (RFC 5208 / RFC 5958), SubjectPublicKeyInfo (RFC 5280 section 4.1) and PBES2 (RFC 8018).
 *
 * Strict means what DER requires and BER would tolerate is refused: only low tag numbers (the
 * structures above use no others), definite lengths in the shortest form (X.690 10.1), INTEGERs
 * in the fewest octets (8.3.2), OID arcs without leading 0x80 octets (8.19.2), BIT STRINGs with
 * no unused bits where keys are concerned. Every length is checked against what is actually
 * left, so truncated or hostile input fails with a {@link DerError} naming what was expected,
 * never with an out-of-range read. Nothing here recurses, so nesting depth costs nothing.
 */
import { concatBytes } from '../wire/writer.ts';

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag `[n]`: constructed for EXPLICIT tagging, primitive for IMPLICIT. */
export function contextTag(n: number, constructed: boolean): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError('context tag number must be 0 to 30');
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** The largest single element we accept: key files are kilobytes; 1 MiB leaves ample room. */
const MAX_LENGTH = 1 << 20;

function tagName(tag: number): string {
  for (const [name, value] of Object.entries(TAG)) if (value === tag) return name.replace('_', ' ');
  if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]`;
  return `tag 0x${tag.toString(16).padStart(2, '0')}`;
}

export type DerElement = {
  readonly tag: number;
  /** The content octets. */
  readonly content: Uint8Array;
  /** The whole encoding, tag and length included. */
  readonly encoded: Uint8Array;
};

export class DerReader {
  private at = 0;

  /** `what` names the structure in error messages ("PKCS#8 PrivateKeyInfo"). */
  constructor(private readonly bytes: Uint8Array, private readonly what = 'DER data') {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.bytes[this.at];
  }

  fail(message: string): DerError {
    return new DerError(`${this.what}: ${message}`);
  }

  /** Read the next element of any tag. */
  element(): DerElement {
    const start = this.at;
    const b = this.bytes;
    if (start >= b.length) throw this.fail('ends where another element was expected');
    const tag = b[start]!;
    if ((tag & 0x1f) === 0x1f) throw this.fail('uses a high tag number, which no key structure has');
    if (start + 1 >= b.length) throw this.fail(`${tagName(tag)} is truncated`);
    const first = b[start + 1]!;
    let length: number;
    let header = 2;
    if (first < 0x80) {
      length = first;
    } else {
      const count = first & 0x7f;
      if (count === 0) throw this.fail(`${tagName(tag)} has an indefinite length, which DER forbids`);
      if (count > 3) throw this.fail(`${tagName(tag)} claims a length of ${count} octets; key structures are smaller`);
      if (start + 2 + count > b.length) throw this.fail(`${tagName(tag)} is truncated`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + b[start + 2 + i]!;
      if (b[start + 2] === 0 || length < 0x80) throw this.fail(`${tagName(tag)} length is not in its shortest form`);
      header += count;
    }
    if (length > MAX_LENGTH) throw this.fail(`${tagName(tag)} is ${length} bytes long, more than any key needs`);
    const end = start + header + length;
    if (end > b.length) throw this.fail(`${tagName(tag)} says ${length} bytes but only ${b.length - start - header} are left; the data is truncated`);
    this.at = end;
    return { tag, content: b.subarray(start + header, end), encoded: b.subarray(start, end) };
  }

  /** Read an element that must carry `tag`. */
  expect(tag: number, what?: string): Uint8Array {
    const next = this.peekTag();
    if (next === undefined) throw this.fail(`ends where ${what ?? `a ${tagName(tag)}`} was expected`);
    if (next !== tag) throw this.fail(`expected ${what ?? `a ${tagName(tag)}`}, found ${tagName(next)}`);
    return this.element().content;
  }

  /** The contents of a SEQUENCE, as a reader of its own. */
  sequence(what?: string): DerReader {
    return new DerReader(this.expect(TAG.SEQUENCE, what), what ?? this.what);
  }

  /** An INTEGER as a bigint (two's complement). `maxBytes` bounds its size. */
  integer(maxBytes = 2049): bigint {
    const c = this.integerContent(maxBytes);
    let v = 0n;
    for (const byte of c) v = (v << 8n) | BigInt(byte);
    if (c[0]! & 0x80) v -= 1n << BigInt(8 * c.length);
    return v;
  }

  /** A non-negative INTEGER as a bigint. */
  unsigned(maxBytes = 2049, what = 'INTEGER'): bigint {
    const v = this.integer(maxBytes);
    if (v < 0n) throw this.fail(`${what} is negative`);
    return v;
  }

  /** A small non-negative INTEGER (version numbers, iteration counts) as a number. */
  smallInteger(max: number, what = 'INTEGER'): number {
    const v = this.integer(8);
    if (v < 0n || v > BigInt(max)) throw this.fail(`${what} is ${v}; expected 0 to ${max}`);
    return Number(v);
  }

  private integerContent(maxBytes: number): Uint8Array {
    const c = this.expect(TAG.INTEGER);
    if (c.length === 0) throw this.fail('INTEGER is empty');
    if (c.length > maxBytes) throw this.fail(`INTEGER is ${c.length} bytes; at most ${maxBytes} expected`);
    if (c.length > 1 && ((c[0] === 0 && !(c[1]! & 0x80)) || (c[0] === 0xff && c[1]! & 0x80))) {
      throw this.fail('INTEGER is not in its shortest form');
    }
    return c;
  }

  octetString(what?: string): Uint8Array {
    return this.expect(TAG.OCTET_STRING, what);
  }

  /** A BIT STRING whose length is a whole number of bytes (all key material is). */
  bitString(what?: string): Uint8Array {
    const c = this.expect(TAG.BIT_STRING, what);
    if (c.length === 0) throw this.fail('BIT STRING is empty');
    if (c[0] !== 0) throw this.fail('BIT STRING has unused bits; keys are whole bytes');
    return c.subarray(1);
  }

  null(): void {
    if (this.expect(TAG.NULL).length !== 0) throw this.fail('NULL has content');
  }

  /** An OBJECT IDENTIFIER in dotted form ("1.2.840.113549.1.1.1"). */
  oid(what?: string): string {
    const c = this.expect(TAG.OID, what);
    if (c.length === 0) throw this.fail('OBJECT IDENTIFIER is empty');
    if (c.length > 64) throw this.fail('OBJECT IDENTIFIER is implausibly long');
    const arcs: number[] = [];
    let v = 0;
    let fresh = true;
    for (const byte of c) {
      if (fresh && byte === 0x80) throw this.fail('OBJECT IDENTIFIER arc is not in its shortest form');
      if (v > 0x1ffffff) throw this.fail('OBJECT IDENTIFIER arc is too large');
      v = v * 128 + (byte & 0x7f);
      fresh = !(byte & 0x80);
      if (fresh) {
        arcs.push(v);
        v = 0;
      }
    }
    if (!fresh) throw this.fail('OBJECT IDENTIFIER is truncated');
    const first = arcs[0]!;
    const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
    return [...head, ...arcs.slice(1)].join('.');
  }

  /** If the next element has `tag`, read and return its content; otherwise return null. */
  optional(tag: number): Uint8Array | null {
    return this.peekTag() === tag ? this.element().content : null;
  }

  /** Everything consumed: trailing bytes are an error, not something to ignore. */
  end(): void {
    if (!this.done) throw this.fail(`has ${this.bytes.length - this.at} unexpected trailing bytes`);
  }
}

/** Parse `bytes` as exactly one element with `tag` and return a reader over its contents. */
export function readDer(bytes: Uint8Array, tag: number, what: string): DerReader {
  const outer = new DerReader(bytes, what);
  const content = outer.expect(tag);
  outer.end();
  return new DerReader(content, what);
}

// ---- writing ----------------------------------------------------------------------------------

function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const len = lengthOctets(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}


export function derSequence(...items: Uint8Array[]): Uint8Array {
  return derTlv(TAG.SEQUENCE, concatBytes(...items));
}

export function derInteger(v: bigint | number): Uint8Array {
  let n = BigInt(v);
  const bytes: number[] = [];
  // Two's complement, shortest form: stop once the remaining value is all sign bits.
  for (;;) {
    const byte = Number(n & 0xffn);
    bytes.unshift(byte);
    n >>= 8n;
    if ((n === 0n && !(byte & 0x80)) || (n === -1n && byte & 0x80)) break;
  }
  return derTlv(TAG.INTEGER, Uint8Array.from(bytes));
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(TAG.OCTET_STRING, bytes);
}

export function derBitString(bytes: Uint8Array): Uint8Array {
  const content = new Uint8Array(bytes.length + 1);
  content.set(bytes, 1);
  return derTlv(TAG.BIT_STRING, content);
}

export function derNull(): Uint8Array {
  return derTlv(TAG.NULL, new Uint8Array(0));
}

export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`"${dotted}" is not an object identifier`);
    return Number(s);
  });
  if (arcs.length < 2 || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! >= 40)) throw new RangeError(`"${dotted}" is not an object identifier`);
  const out: number[] = [];
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  for (const value of values) {
    const group: number[] = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f));
    out.push(...group);
  }
  return derTlv(TAG.OID, Uint8Array.from(out));
}

/** `[n] EXPLICIT` around one encoded element. */
export function derExplicit(n: number, inner: Uint8Array): Uint8Array {
  return derTlv(contextTag(n, true), inner);
}
