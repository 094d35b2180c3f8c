/**
 * Reader for the SSH data types of RFC 4251 section 5: byte, boolean, uint32, uint64, string,
 * mpint and name-list. Every read is bounds-checked and failures are protocol errors (the input
 * came from the peer), so a malformed message can never throw anything but {@link SshProtocolError}.
 * `end()` rejects trailing bytes: a message with junk after its last field is malformed.
 */
import { protocolError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class SshReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what = 'message') {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  private need(n: number): void {
    if (n > this.remaining) throw protocolError(`${this.what} is truncated`);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  uint64(): bigint {
    const hi = this.uint32();
    const lo = this.uint32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Raw bytes of a fixed length (not length-prefixed). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A length-prefixed byte string; the returned view aliases the input. */
  string(maxLength = Number.MAX_SAFE_INTEGER): Uint8Array {
    const length = this.uint32();
    if (length > maxLength) throw protocolError(`${this.what}: string of ${length} bytes exceeds limit ${maxLength}`);
    return this.raw(length);
  }

  /** A string that must be valid UTF-8. */
  text(maxLength = 65536): string {
    const raw = this.string(maxLength);
    try {
      return utf8.decode(raw);
    } catch {
      throw protocolError(`${this.what}: string is not valid UTF-8`);
    }
  }

  /** A string of US-ASCII, as algorithm and method names are (RFC 4251 section 6). */
  ascii(maxLength = 65536): string {
    const raw = this.string(maxLength);
    let s = '';
    for (const c of raw) {
      if (c < 0x20 || c > 0x7e) throw protocolError(`${this.what}: name contains a non-printable byte`);
      s += String.fromCharCode(c);
    }
    return s;
  }

  /**
   * A name-list (RFC 4251 section 5): comma-separated, no empty names, printable ASCII without
   * commas. An empty string is an empty list.
   */
  nameList(maxLength = 65536): string[] {
    const s = this.ascii(maxLength);
    if (s === '') return [];
    const names = s.split(',');
    for (const name of names) {
      if (name === '') throw protocolError(`${this.what}: name-list contains an empty name`);
      if (name.length > 64) throw protocolError(`${this.what}: name-list entry longer than 64 characters`);
    }
    return names;
  }

  /** The magnitude bytes of an mpint, validated as minimal two's complement. */
  mpintBytes(maxLength = 16384): Uint8Array {
    const v = this.string(maxLength);
    if (v.length > 0) {
      if (v[0]! & 0x80) throw protocolError(`${this.what}: negative mpint`);
      if (v[0] === 0 && (v.length === 1 || !(v[1]! & 0x80))) throw protocolError(`${this.what}: mpint is not minimally encoded`);
    }
    return v[0] === 0 ? v.subarray(1) : v;
  }

  /** A non-negative mpint as a bigint. */
  mpint(maxLength = 16384): bigint {
    return bytesToBigint(this.mpintBytes(maxLength));
  }

  /** Everything not yet read. */
  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return out;
  }

  /** Assert the message was consumed exactly. */
  end(): void {
    if (this.remaining !== 0) throw protocolError(`${this.what} has ${this.remaining} trailing bytes`);
  }
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt('0x' + hex);
}
