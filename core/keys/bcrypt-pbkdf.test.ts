import { describe, expect, it } from 'vitest';
import { Blowfish, bcryptPbkdf, blowfishInitialState } from './bcrypt-pbkdf.ts';

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (s: string) => new TextEncoder().encode(s);

describe('Blowfish', () => {
  it('starts from the digits of pi as printed in Schneier 1993', () => {
    const s = blowfishInitialState();
    expect(s.length).toBe(1042);
    // P1, P2, P18, the first word of each S-box and the last words of S-boxes 1 and 4.
    expect(s[0]).toBe(0x243f6a88);
    expect(s[1]).toBe(0x85a308d3);
    expect(s[17]).toBe(0x8979fb1b);
    expect(s[18]).toBe(0xd1310ba6);
    expect(s[18 + 255]).toBe(0x6e85076a);
    expect(s[18 + 256]).toBe(0x4b7a70e9);
    expect(s[18 + 2 * 256]).toBe(0xe93d5a68);
    expect(s[18 + 3 * 256]).toBe(0x3a39ce37);
    expect(s[1041]).toBe(0x3ac372e6);
  });

  // Eric Young's Blowfish vectors; every one re-checked with
  // `openssl enc -provider legacy -bf-ecb -nopad -nosalt -K <key twice>` (see fixtures/README.md).
  it.each([
    ['0000000000000000', '0000000000000000', '4ef997456198dd78'],
    ['ffffffffffffffff', 'ffffffffffffffff', '51866fd5b85ecb8a'],
    ['3000000000000000', '1000000000000001', '7d856f9a613063f2'],
    ['0123456789abcdef', '1111111111111111', '61f9c3802281b096'],
    ['fedcba9876543210', '0123456789abcdef', '0aceab0fc6a0a28d'],
    ['f0e1d2c3b4a5968778695a4b3c2d1e0f', 'fedcba9876543210', '93142887ee3be15c'],
  ])('key %s encrypts %s to %s', (key, plain, cipher) => {
    const bf = Blowfish.withKey(hex(key));
    const p = hex(plain);
    const v = new DataView(p.buffer);
    bf.encrypt(v.getUint32(0), v.getUint32(4));
    const out = new Uint8Array(8);
    new DataView(out.buffer).setUint32(0, bf.left);
    new DataView(out.buffer).setUint32(4, bf.right);
    expect(toHex(out)).toBe(cipher);
  });

  it('refuses empty and over-long keys', () => {
    expect(() => Blowfish.withKey(new Uint8Array(0))).toThrow(RangeError);
    expect(() => Blowfish.withKey(new Uint8Array(73))).toThrow(RangeError);
  });
});

describe('bcryptPbkdf', () => {
  // OpenBSD's bcrypt_pbkdf regression vectors as listed in RustCrypto/password-hashes
  // bcrypt-pbkdf/tests/test_vectors.rs (see fixtures/README.md).
  const lorem =
    'Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
    'Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ' +
    'Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. ' +
    'Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
  it.each([
    ['password', 'salt', 4, '5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9'],
    ['password', '\0', 4, 'c12b566235eee04c212598970a579a67'],
    ['\0', 'salt', 4, '6051be18c2f4f82cbf0efee5471b4bb9'],
    ['password\0', 'salt\0', 4, '7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050'],
    ['pass\0wor', 'sa\0l', 4, 'c2bffd9db38f6569efef4372f4de83c0'],
    ['pass\0word', 'sa\0lt', 4, '4ba4ac3925c0e8d7f0cdb6bb1684a56f'],
    [
      'password',
      'salt',
      8,
      'e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d',
    ],
    ['password', 'salt', 42, '833cf0dcf56db65608e8f0dc0ce882bd'],
    [lorem, 'salis\0', 8, '10978b07253df57f71a162eb0e8ad30a'],
  ])('%j / %j / %i rounds', (password, salt, rounds, expected) => {
    expect(toHex(bcryptPbkdf(bytes(password), bytes(salt), rounds, expected.length / 2))).toBe(expected);
  });

  it('interleaves blocks: a shorter key is not a prefix of a longer one', () => {
    const long = bcryptPbkdf(bytes('password'), bytes('salt'), 1, 48);
    const short = bcryptPbkdf(bytes('password'), bytes('salt'), 1, 32);
    expect(toHex(short)).not.toBe(toHex(long.subarray(0, 32)));
    // With 48 bytes and a stride of 2, block 1 fills the even positions; with 32 bytes it fills all.
    expect(long[0]).toBe(short[0]);
  });

  it('refuses parameters bcrypt_pbkdf(3) refuses', () => {
    expect(() => bcryptPbkdf(bytes('p'), bytes('s'), 0, 32)).toThrow(/round/);
    expect(() => bcryptPbkdf(new Uint8Array(0), bytes('s'), 1, 32)).toThrow(/password/);
    expect(() => bcryptPbkdf(bytes('p'), new Uint8Array(0), 1, 32)).toThrow(/salt/);
    expect(() => bcryptPbkdf(bytes('p'), bytes('s'), 1, 0)).toThrow(/derives/);
    expect(() => bcryptPbkdf(bytes('p'), bytes('s'), 1, 1025)).toThrow(/derives/);
  });
});
