/**
 * Triple DES (TDEA, EDE with three keys) in CBC mode, decryption and encryption, for reading the
 * legacy key encryptions that still turn up: `3des-cbc` in openssh-key-v1 files (`ssh-keygen
 * -Z 3des-cbc`), `DEK-Info: DES-EDE3-CBC` in OpenSSL's traditional PEM (`openssl rsa -des3`) and
 * `des-ede3-cbc` (OID 1.2.840.113549.3.7) under PKCS#5 PBES2 (RFC 8018 appendix B.2.2).
 *
 * DES is FIPS 46-3: the permutation and S-box tables below are transcribed from its text (IP,
 * E, P, PC-1, PC-2, the left-shift schedule and S1…S8); FP is computed as the inverse of IP.
 * TDEA is ANSI X9.52 / NIST SP 800-67: C = E_K3(D_K2(E_K1(P))). It is only here to read old
 * files; nothing new is written with it.
 */

// FIPS 46-3 tables; bit positions are 1-based from the most significant bit.
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
// S1…S8, each four rows of sixteen.
const S = [
  '14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13',
  '15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9',
  '10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12',
  '7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14',
  '2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3',
  '12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13',
  '4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12',
  '13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11',
].map((row) => row.split(' ').map(Number));

/**
 * S-box i followed by P, for each 6-bit input: the 32-bit contribution of that S-box to f(R, K).
 * The S-box row is the outer bit pair (b1 b6) and the column the middle four bits (FIPS 46-3).
 */
const SP: Int32Array[] = S.map((box, i) => {
  const table = new Int32Array(64);
  for (let v = 0; v < 64; v++) {
    const row = ((v >> 4) & 2) | (v & 1);
    const col = (v >> 1) & 15;
    const out = box[row * 16 + col]! << (28 - 4 * i);
    let permuted = 0;
    for (let j = 0; j < 32; j++) if ((out >>> (32 - P[j]!)) & 1) permuted |= 1 << (31 - j);
    table[v] = permuted;
  }
  return table;
});

/** Apply a permutation table to a 64-bit block held as two 32-bit halves. */
function permute64(hi: number, lo: number, table: readonly number[]): [number, number] {
  let a = 0;
  let b = 0;
  for (let j = 0; j < 64; j++) {
    const src = table[j]! - 1;
    const bit = src < 32 ? (hi >>> (31 - src)) & 1 : (lo >>> (63 - src)) & 1;
    if (j < 32) a |= bit << (31 - j);
    else b |= bit << (63 - j);
  }
  return [a >>> 0, b >>> 0];
}

const FP = (() => {
  const inverse = new Array<number>(64);
  IP.forEach((src, j) => (inverse[src - 1] = j + 1));
  return inverse;
})();

/** The sixteen 48-bit round keys, each as eight 6-bit values aligned with the S-boxes. */
function roundKeys(key: Uint8Array): Uint8Array[] {
  const bits = (i: number) => (key[i >> 3]! >> (7 - (i & 7))) & 1;
  const c = PC1.slice(0, 28).map((p) => bits(p - 1));
  const d = PC1.slice(28).map((p) => bits(p - 1));
  const keys: Uint8Array[] = [];
  for (const shift of SHIFTS) {
    for (let k = 0; k < shift; k++) {
      c.push(c.shift()!);
      d.push(d.shift()!);
    }
    const cd = [...c, ...d];
    const chunks = new Uint8Array(8);
    for (let j = 0; j < 48; j++) {
      const at = Math.floor(j / 6);
      chunks[at] = (chunks[at]! << 1) | cd[PC2[j]! - 1]!;
    }
    keys.push(chunks);
  }
  return keys;
}

/** One DES block with the given round keys (reversed for decryption). */
function desBlock(hi: number, lo: number, keys: readonly Uint8Array[]): [number, number] {
  let [l, r] = permute64(hi, lo, IP);
  for (const k of keys) {
    let f = 0;
    for (let i = 0; i < 8; i++) {
      // E expansion: the six bits starting at position 4i (position 0 meaning 32), cyclically.
      const rotated = i === 0 ? (r >>> 1) | (r << 31) : (r << (4 * i - 1)) | (r >>> (33 - 4 * i));
      f |= SP[i]![((rotated >>> 26) & 63) ^ k[i]!]!;
    }
    const next = (l ^ f) >>> 0;
    l = r;
    r = next;
  }
  return permute64(r, l, FP);
}

/** Three-key TDEA (24-byte key K1‖K2‖K3) in CBC mode without padding; `data` is whole blocks. */
export function tripleDesCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array, direction: 'encrypt' | 'decrypt'): Uint8Array {
  if (key.length !== 24) throw new RangeError('3DES needs a 24-byte key');
  if (iv.length !== 8) throw new RangeError('3DES-CBC needs an 8-byte IV');
  if (data.length % 8 !== 0) throw new RangeError('3DES-CBC data must be a whole number of 8-byte blocks');
  const k1 = roundKeys(key.subarray(0, 8));
  const k2 = roundKeys(key.subarray(8, 16));
  const k3 = roundKeys(key.subarray(16, 24));
  const [k1r, k2r, k3r] = [k1.slice().reverse(), k2.slice().reverse(), k3.slice().reverse()];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length);
  const outView = new DataView(out.buffer);
  const ivView = new DataView(iv.buffer, iv.byteOffset, 8);
  let prevHi = ivView.getUint32(0);
  let prevLo = ivView.getUint32(4);
  for (let o = 0; o < data.length; o += 8) {
    const hi = view.getUint32(o);
    const lo = view.getUint32(o + 4);
    let block: [number, number];
    if (direction === 'encrypt') {
      block = desBlock((hi ^ prevHi) >>> 0, (lo ^ prevLo) >>> 0, k1);
      block = desBlock(block[0], block[1], k2r);
      block = desBlock(block[0], block[1], k3);
      [prevHi, prevLo] = block;
      outView.setUint32(o, block[0]);
      outView.setUint32(o + 4, block[1]);
    } else {
      block = desBlock(hi, lo, k3r);
      block = desBlock(block[0], block[1], k2);
      block = desBlock(block[0], block[1], k1r);
      outView.setUint32(o, (block[0] ^ prevHi) >>> 0);
      outView.setUint32(o + 4, (block[1] ^ prevLo) >>> 0);
      prevHi = hi;
      prevLo = lo;
    }
  }
  return out;
}
