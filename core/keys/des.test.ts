import { describe, expect, it } from 'vitest';
import { tripleDesCbc } from './des.ts';

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// Known answers from OpenSSL 3.0.19's legacy provider; the exact commands are in fixtures/README.md.
const KEY = hex('0123456789abcdef23456789abcdef01456789abcdef0123');
const IV = hex('1234567890abcdef');
const PLAIN = Uint8Array.from({ length: 512 }, (_, i) => i & 255);
const CIPHER =
  'a242ad370ee232ede85e1033962975f4eb25ac5d7d4343baabe82adeb95ad55808ea1425f8210a8019550bda45a7542310be979c00a10a74b71f6f6f041aab531d284e14865b167bda5603df0a0ea44723f243c347b9e370fc760a3365f57e9cf472b8078a2c51801bb8f9aaf3fddbba3c9cb534fc34a00e713ce88508b77132097bbebfff42291377bb51fffab514ff0f89c3fe12cbde2cadde038abdcd2c8cb8a0147184061f8e414739750b5f3183b4ccb0333bbe374eabb713f5607efd55df1f6ba5458847d833a2f2c6286017c0e542e5170465d47cce8d329177e99313176ea7554c313bc3d5c36f4eedfe5ca6dd145171c3908bfb141f8dba47902ebd14e4e297975b5f826eabaf852ebd6768fcdfaa710fa62351a983d8090f0b86ea0268413777c54464c7dc03d42fd2ccc5ee27b5343ec50ba34c47181cc16335f0cdac338052ae9e22b50aae7ab0d0121345977e9f11b2f8055eed8c721ff199fc011a37e01dd8437ed8a7804c1e7fcf2d2dc63880fa11627dbc5450a3c92fbe92950b735ee21aaf1190a7e301f522cc4b0239dafccd591fa8c17d6aa89d5c24a3e4f48b2ee76988ad181de507b487b5d0837be49e16cb2c95c433170cee5ba0e954419d449c8cf8379872cd91d6f455639cb77db8c92bbeff3ce02d89a1f442c99c9ea31a43e30f9681281e6d92058b28f91f948895d1986b457d89dd033e940f';

describe('tripleDesCbc', () => {
  it('matches OpenSSL des-ede3-cbc over 64 blocks', () => {
    expect(toHex(tripleDesCbc(KEY, IV, PLAIN, 'encrypt'))).toBe(CIPHER);
    expect(tripleDesCbc(KEY, IV, hex(CIPHER), 'decrypt')).toEqual(PLAIN);
  });

  it('with K1 = K2 = K3 is single DES (OpenSSL known answer)', () => {
    const k = hex('0123456789abcdef'.repeat(3));
    expect(toHex(tripleDesCbc(k, new Uint8Array(8), hex('0123456789abcdef'), 'encrypt'))).toBe('56cc09e7cfdc4cef');
  });

  it('decrypts from a subarray view', () => {
    const padded = new Uint8Array(8 + CIPHER.length / 2);
    padded.set(hex(CIPHER), 8);
    expect(tripleDesCbc(KEY, IV, padded.subarray(8), 'decrypt')).toEqual(PLAIN);
  });

  it('refuses wrong sizes', () => {
    expect(() => tripleDesCbc(new Uint8Array(16), IV, PLAIN, 'decrypt')).toThrow(/24-byte key/);
    expect(() => tripleDesCbc(KEY, new Uint8Array(16), PLAIN, 'decrypt')).toThrow(/8-byte IV/);
    expect(() => tripleDesCbc(KEY, IV, new Uint8Array(7), 'decrypt')).toThrow(/whole number/);
  });
});
