import { describe, it, expect } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.ts';

const enc = new TextEncoder();

describe('base64', () => {
  // RFC 4648 section 10 test vectors.
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  it.each(vectors)('encodes and decodes %j', (plain, b64) => {
    expect(encodeBase64(enc.encode(plain))).toBe(b64);
    expect(decodeBase64(b64)).toEqual(enc.encode(plain));
  });

  it('omits padding on request and decodes unpadded text', () => {
    expect(encodeBase64(enc.encode('fo'), false)).toBe('Zm8');
    expect(decodeBase64('Zm8', false)).toEqual(enc.encode('fo'));
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let n = 0; n <= all.length; n += 7) expect(decodeBase64(encodeBase64(all.subarray(0, n)))).toEqual(all.subarray(0, n));
  });

  it.each(['Zm8', 'Zm9v=', 'Z===', 'Zm 9v', 'Zm9v\n', 'Zm=v', 'Zm9vY', '€abc'])('rejects %j', (bad) => {
    expect(() => decodeBase64(bad)).toThrow(RangeError);
  });
});
