import { describe, expect, it } from 'vitest';
import { SshProtocolError } from '../errors.ts';
import { SshReader } from './reader.ts';
import { SshWriter, bigintToBytes } from './writer.ts';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

describe('wire codec', () => {
  it('encodes the RFC 4251 section 5 mpint examples', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '00000000'],
      [0x9a378f9b2e332a7n, '0000000809a378f9b2e332a7'],
      [0x80n, '000000020080'],
    ];
    for (const [v, want] of cases) expect(hex(new SshWriter().mpint(v).finish())).toBe(want);
    for (const [v, want] of cases) {
      const bytes = Uint8Array.from(want.match(/../g)!.map((h) => parseInt(h, 16)));
      expect(new SshReader(bytes).mpint()).toBe(v);
    }
  });

  it('round-trips every type and rejects trailing bytes', () => {
    const bytes = new SshWriter().byte(7).boolean(true).uint32(0xdeadbeef).uint64(2n ** 63n + 5n).string('héllo').nameList(['a', 'b']).finish();
    const r = new SshReader(bytes);
    expect([r.byte(), r.boolean(), r.uint32(), r.uint64(), r.text(), r.nameList()]).toEqual([7, true, 0xdeadbeef, 2n ** 63n + 5n, 'héllo', ['a', 'b']]);
    r.end();
    const extra = new Uint8Array([...bytes, 0]);
    const r2 = new SshReader(extra);
    r2.byte(); r2.boolean(); r2.uint32(); r2.uint64(); r2.text(); r2.nameList();
    expect(() => r2.end()).toThrow(SshProtocolError);
  });

  it('rejects truncation, oversize strings, bad name-lists and non-minimal mpints', () => {
    expect(() => new SshReader(new Uint8Array([0, 0, 0, 5, 1])).string()).toThrow(/truncated/);
    expect(() => new SshReader(new SshWriter().string('abcdef').finish()).string(3)).toThrow(/exceeds/);
    expect(() => new SshReader(new SshWriter().string('a,,b').finish()).nameList()).toThrow(/empty name/);
    expect(() => new SshReader(new SshWriter().string('a\x01').finish()).nameList()).toThrow(/non-printable/);
    expect(() => new SshReader(new Uint8Array([0, 0, 0, 2, 0, 1])).mpint()).toThrow(/minimal/);
    expect(() => new SshReader(new Uint8Array([0, 0, 0, 1, 0x80])).mpint()).toThrow(/negative/);
    expect(new SshReader(new SshWriter().string('').finish()).nameList()).toEqual([]);
  });

  it('bigintToBytes pads to a requested length', () => {
    expect(hex(bigintToBytes(0x1234n, 4))).toBe('00001234');
  });
});
