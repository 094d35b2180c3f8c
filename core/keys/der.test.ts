import { describe, expect, it } from 'vitest';
import {
  DerError,
  DerReader,
  TAG,
  contextTag,
  derBitString,
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derTlv,
  readDer,
} from './der.ts';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const reader = (s: string) => new DerReader(hex(s), 'test');

describe('DER writer', () => {
  // X.690 8.3 examples and the encodings every key file carries.
  it.each([
    [0n, '020100'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [-1n, '0201ff'],
    [-128n, '020180'],
    [-129n, '0202ff7f'],
    [0x10001n, '0203010001'],
  ])('INTEGER %s is %s', (v, expected) => {
    expect(toHex(derInteger(v))).toBe(expected);
    expect(reader(expected).integer()).toBe(v);
  });

  it.each([
    ['1.2.840.113549.1.1.1', '06092a864886f70d010101'],
    ['1.2.840.10045.3.1.7', '06082a8648ce3d030107'],
    ['1.3.132.0.35', '06052b81040023'],
    ['1.3.101.112', '06032b6570'],
    ['2.16.840.1.101.3.4.1.42', '060960864801650304012a'],
    ['2.999.3', '0603883703'],
  ])('OID %s is %s', (oid, expected) => {
    expect(toHex(derOid(oid))).toBe(expected);
    expect(reader(expected).oid()).toBe(oid);
  });

  it('writes long-form lengths in the fewest octets', () => {
    expect(toHex(derOctetString(new Uint8Array(127))).slice(0, 4)).toBe('047f');
    expect(toHex(derOctetString(new Uint8Array(128))).slice(0, 6)).toBe('048180');
    expect(toHex(derOctetString(new Uint8Array(256))).slice(0, 8)).toBe('04820100');
    expect(toHex(derOctetString(new Uint8Array(70000))).slice(0, 10)).toBe('0483011170');
  });

  it('nests sequences, bit strings, NULL and explicit tags', () => {
    const encoded = derSequence(derInteger(1), derBitString(hex('0a0b')), derNull(), derExplicit(0, derOid('1.3.101.112')));
    expect(toHex(encoded)).toBe('3011020101030300' + '0a0b' + '0500' + 'a005' + '06032b6570');
    const r = readDer(encoded, TAG.SEQUENCE, 'test');
    expect(r.smallInteger(5)).toBe(1);
    expect(toHex(r.bitString())).toBe('0a0b');
    r.null();
    const inner = new DerReader(r.optional(contextTag(0, true))!, 'inner');
    expect(inner.oid()).toBe('1.3.101.112');
    expect(r.optional(contextTag(1, true))).toBeNull();
    r.end();
  });

  it('refuses malformed OID strings and context numbers', () => {
    expect(() => derOid('1')).toThrow(RangeError);
    expect(() => derOid('3.1')).toThrow(RangeError);
    expect(() => derOid('1.40')).toThrow(RangeError);
    expect(() => derOid('1.2.x')).toThrow(RangeError);
    expect(() => contextTag(31, true)).toThrow(RangeError);
  });
});

describe('DER reader strictness', () => {
  const refuses = (s: string, read: (r: DerReader) => unknown, message: RegExp) => {
    expect(() => read(reader(s))).toThrow(DerError);
    expect(() => read(reader(s))).toThrow(message);
  };

  it('refuses indefinite, non-minimal, oversized and truncated lengths', () => {
    refuses('3080020100 0000', (r) => r.element(), /indefinite/);
    refuses('04810100', (r) => r.element(), /shortest form/);
    refuses('0482000100', (r) => r.element(), /shortest form/);
    refuses('048401000000', (r) => r.element(), /length of 4 octets/);
    refuses('0483200000', (r) => r.element(), /more than any key needs/);
    refuses('040500', (r) => r.element(), /truncated/);
    refuses('04', (r) => r.element(), /truncated/);
    refuses('0482', (r) => r.element(), /truncated/);
    refuses('', (r) => r.element(), /ends where/);
    refuses('1f0100', (r) => r.element(), /high tag number/);
  });

  it('refuses non-minimal and oversized INTEGERs, and empty ones', () => {
    refuses('0200', (r) => r.integer(), /empty/);
    refuses('0202007f', (r) => r.integer(), /shortest form/);
    refuses('0202ff80', (r) => r.integer(), /shortest form/);
    refuses('020401020304', (r) => r.integer(3), /at most 3/);
    refuses('0201ff', (r) => r.unsigned(), /negative/);
    refuses('020105', (r) => r.smallInteger(4, 'version'), /version is 5/);
  });

  it('refuses malformed OIDs, BIT STRINGs with unused bits, NULL with content', () => {
    refuses('0600', (r) => r.oid(), /empty/);
    refuses('0602802a', (r) => r.oid(), /shortest form/);
    refuses('06022a86', (r) => r.oid(), /truncated/);
    refuses('030201ff', (r) => r.bitString(), /unused bits/);
    refuses('0300', (r) => r.bitString(), /empty/);
    refuses('050100', (r) => r.null(), /content/);
  });

  it('names what it expected and refuses trailing bytes', () => {
    refuses('020100', (r) => r.octetString('the salt'), /expected the salt, found INTEGER/);
    refuses('', (r) => r.sequence('PBES2-params'), /ends where PBES2-params was expected/);
    expect(() => readDer(hex('3000 00'), TAG.SEQUENCE, 'outer')).toThrow(/trailing/);
    const r = reader('3003020101');
    const seq = r.sequence();
    expect(seq.peekTag()).toBe(TAG.INTEGER);
    expect(seq.integer()).toBe(1n);
    expect(seq.done).toBe(true);
    expect(r.done).toBe(true);
  });

  it('never throws anything but DerError on random bytes', () => {
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 2000; n++) {
      const bytes = Uint8Array.from({ length: (n % 40) + 1 }, next);
      const r = new DerReader(bytes, 'fuzz');
      try {
        while (!r.done) {
          const e = r.element();
          try {
            new DerReader(e.encoded).integer();
          } catch (err) {
            expect(err).toBeInstanceOf(DerError);
          }
          try {
            new DerReader(e.encoded).oid();
          } catch (err) {
            expect(err).toBeInstanceOf(DerError);
          }
        }
      } catch (err) {
        expect(err).toBeInstanceOf(DerError);
      }
    }
  });

  it('derTlv round-trips through element()', () => {
    const e = new DerReader(derTlv(contextTag(1, false), hex('0001'))).element();
    expect(e.tag).toBe(0x81);
    expect(toHex(e.content)).toBe('0001');
  });
});
