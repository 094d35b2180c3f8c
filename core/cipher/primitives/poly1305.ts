/**
 * Poly1305 one-time authenticator, RFC 8439 section 2.5 (used by PROTOCOL.chacha20poly1305).
 *
 * The accumulator and r are held as six 22-bit limbs in IEEE doubles rather than the usual 16- or
 * 26-bit integer limbs: JavaScript has no 64-bit integer multiply, but a double holds any integer
 * below 2^53 exactly, and with 22-bit limbs every column of the schoolbook product stays below that
 * bound (6 terms of at most 2^23 * 20 * 2^22 < 2^52), so 36 float multiplies replace the 100 small
 * ones a 13-bit-limb version needs. 2^132 = 4 * 2^130 = 20 (mod 2^130 - 5) folds the high columns.
 * Bulk data goes two blocks per step with r^2 (Horner's rule unrolled once), halving carry chains.
 */

const TWO22 = 4194304;
const INV22 = 1 / TWO22;
const M22 = 0x3fffff;
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** 2^128 in units of limb 5 (weight 2^110): the bit appended to every full block. */
const HIBIT = 262144;

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

const lastBlock = new Uint8Array(16);

/** The 16-byte Poly1305 tag of `msg` under the 32-byte one-time key (r || s). */
export function poly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('poly1305: key must be 32 bytes');
  // r, clamped as section 2.5.1 requires.
  const t0 = le32(key, 0) & 0x0fffffff;
  const t1 = le32(key, 4) & 0x0ffffffc;
  const t2 = le32(key, 8) & 0x0ffffffc;
  const t3 = le32(key, 12) & 0x0ffffffc;
  const r0 = t0 & M22;
  const r1 = ((t0 >>> 22) | (t1 << 10)) & M22;
  const r2 = ((t1 >>> 12) | (t2 << 20)) & M22;
  const r3 = (t2 >>> 2) & M22;
  const r4 = ((t2 >>> 24) | (t3 << 8)) & M22;
  const r5 = t3 >>> 14;
  const s1 = r1 * 20, s2 = r2 * 20, s3 = r3 * 20, s4 = r4 * 20, s5 = r5 * 20;

  // r^2, fully carried, for the two-blocks-at-a-time loop below.
  let q0 = r0 * r0 + r1 * s5 + r2 * s4 + r3 * s3 + r4 * s2 + r5 * s1;
  let q1 = 2 * r0 * r1 + r2 * s5 + r3 * s4 + r4 * s3 + r5 * s2;
  let q2 = 2 * r0 * r2 + r1 * r1 + r3 * s5 + r4 * s4 + r5 * s3;
  let q3 = 2 * (r0 * r3 + r1 * r2) + r4 * s5 + r5 * s4;
  let q4 = 2 * (r0 * r4 + r1 * r3) + r2 * r2 + r5 * s5;
  let q5 = 2 * (r0 * r5 + r1 * r4 + r2 * r3);
  let c = Math.floor(q0 * INV22); q0 -= c * TWO22; q1 += c;
  c = Math.floor(q1 * INV22); q1 -= c * TWO22; q2 += c;
  c = Math.floor(q2 * INV22); q2 -= c * TWO22; q3 += c;
  c = Math.floor(q3 * INV22); q3 -= c * TWO22; q4 += c;
  c = Math.floor(q4 * INV22); q4 -= c * TWO22; q5 += c;
  c = Math.floor(q5 * INV22); q5 -= c * TWO22; q0 += c * 20;
  c = Math.floor(q0 * INV22); q0 -= c * TWO22; q1 += c;
  const u1 = q1 * 20, u2 = q2 * 20, u3 = q3 * 20, u4 = q4 * 20, u5 = q5 * 20;

  let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0;
  const len = msg.length;
  const full = len - (len & 15);
  let o = 0;

  // Bulk: h = (h + m1) * r^2 + m2 * r, one carry chain per 32 bytes. Both products of a column sum
  // to below 2^52.5 (h limbs < 2^23.01, m limbs < 2^22, multipliers < 20 * 2^22.01), still exact.
  const pairsEnd = full - (full & 31);
  if (littleEndian && pairsEnd > 0) {
    // Word loads need 4-byte alignment; an unaligned message is copied once (cheaper than byte loads).
    const src = (msg.byteOffset & 3) === 0 ? msg : new Uint8Array(msg.subarray(0, pairsEnd));
    const words = new Int32Array(src.buffer, src.byteOffset, pairsEnd >>> 2);
    const n = words.length;
    for (let i = 0; i < n; i += 8) {
      let w0 = words[i]!, w1 = words[i + 1]!, w2 = words[i + 2]!, w3 = words[i + 3]!;
      h0 += w0 & M22;
      h1 += ((w0 >>> 22) | (w1 << 10)) & M22;
      h2 += ((w1 >>> 12) | (w2 << 20)) & M22;
      h3 += (w2 >>> 2) & M22;
      h4 += ((w2 >>> 24) | (w3 << 8)) & M22;
      h5 += (w3 >>> 14) + HIBIT;
      w0 = words[i + 4]!; w1 = words[i + 5]!; w2 = words[i + 6]!; w3 = words[i + 7]!;
      const m0 = w0 & M22;
      const m1 = ((w0 >>> 22) | (w1 << 10)) & M22;
      const m2 = ((w1 >>> 12) | (w2 << 20)) & M22;
      const m3 = (w2 >>> 2) & M22;
      const m4 = ((w2 >>> 24) | (w3 << 8)) & M22;
      const m5 = (w3 >>> 14) + HIBIT;
      let d0 = h0 * q0 + h1 * u5 + h2 * u4 + h3 * u3 + h4 * u2 + h5 * u1 + m0 * r0 + m1 * s5 + m2 * s4 + m3 * s3 + m4 * s2 + m5 * s1;
      let d1 = h0 * q1 + h1 * q0 + h2 * u5 + h3 * u4 + h4 * u3 + h5 * u2 + m0 * r1 + m1 * r0 + m2 * s5 + m3 * s4 + m4 * s3 + m5 * s2;
      let d2 = h0 * q2 + h1 * q1 + h2 * q0 + h3 * u5 + h4 * u4 + h5 * u3 + m0 * r2 + m1 * r1 + m2 * r0 + m3 * s5 + m4 * s4 + m5 * s3;
      let d3 = h0 * q3 + h1 * q2 + h2 * q1 + h3 * q0 + h4 * u5 + h5 * u4 + m0 * r3 + m1 * r2 + m2 * r1 + m3 * r0 + m4 * s5 + m5 * s4;
      let d4 = h0 * q4 + h1 * q3 + h2 * q2 + h3 * q1 + h4 * q0 + h5 * u5 + m0 * r4 + m1 * r3 + m2 * r2 + m3 * r1 + m4 * r0 + m5 * s5;
      let d5 = h0 * q5 + h1 * q4 + h2 * q3 + h3 * q2 + h4 * q1 + h5 * q0 + m0 * r5 + m1 * r4 + m2 * r3 + m3 * r2 + m4 * r1 + m5 * r0;
      c = Math.floor(d0 * INV22); h0 = d0 - c * TWO22; d1 += c;
      c = Math.floor(d1 * INV22); h1 = d1 - c * TWO22; d2 += c;
      c = Math.floor(d2 * INV22); h2 = d2 - c * TWO22; d3 += c;
      c = Math.floor(d3 * INV22); h3 = d3 - c * TWO22; d4 += c;
      c = Math.floor(d4 * INV22); h4 = d4 - c * TWO22; d5 += c;
      c = Math.floor(d5 * INV22); h5 = d5 - c * TWO22; h0 += c * 20;
      c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
    }
    o = pairsEnd;
  }

  // The rest one block at a time (all of it on a big-endian host). Full blocks get the 2^128 bit; a
  // short final block gets its 0x01 byte in the buffer instead.
  let src = msg;
  let hibit = HIBIT;
  for (let end = full; ; ) {
    for (; o < end; o += 16) {
      const w0 = src[o]! | (src[o + 1]! << 8) | (src[o + 2]! << 16) | (src[o + 3]! << 24);
      const w1 = src[o + 4]! | (src[o + 5]! << 8) | (src[o + 6]! << 16) | (src[o + 7]! << 24);
      const w2 = src[o + 8]! | (src[o + 9]! << 8) | (src[o + 10]! << 16) | (src[o + 11]! << 24);
      const w3 = src[o + 12]! | (src[o + 13]! << 8) | (src[o + 14]! << 16) | (src[o + 15]! << 24);
      h0 += w0 & M22;
      h1 += ((w0 >>> 22) | (w1 << 10)) & M22;
      h2 += ((w1 >>> 12) | (w2 << 20)) & M22;
      h3 += (w2 >>> 2) & M22;
      h4 += ((w2 >>> 24) | (w3 << 8)) & M22;
      h5 += (w3 >>> 14) + hibit;

      let d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
      let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
      let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
      let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
      let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
      let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

      c = Math.floor(d0 * INV22); h0 = d0 - c * TWO22; d1 += c;
      c = Math.floor(d1 * INV22); h1 = d1 - c * TWO22; d2 += c;
      c = Math.floor(d2 * INV22); h2 = d2 - c * TWO22; d3 += c;
      c = Math.floor(d3 * INV22); h3 = d3 - c * TWO22; d4 += c;
      c = Math.floor(d4 * INV22); h4 = d4 - c * TWO22; d5 += c;
      c = Math.floor(d5 * INV22); h5 = d5 - c * TWO22; h0 += c * 20;
      c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
    }
    if (src === lastBlock || full === len) break;
    lastBlock.fill(0);
    lastBlock.set(msg.subarray(full));
    lastBlock[len - full] = 1;
    src = lastBlock;
    o = 0;
    end = 16;
    hibit = 0;
  }
  lastBlock.fill(0);

  // Back to small integers: fully carry and fold until h < 2^130.
  let g0 = h0, g1 = h1, g2 = h2, g3 = h3, g4 = h4, g5 = h5;
  for (let i = 0; i < 3; i++) {
    g1 += g0 >>> 22; g0 &= M22;
    g2 += g1 >>> 22; g1 &= M22;
    g3 += g2 >>> 22; g2 &= M22;
    g4 += g3 >>> 22; g3 &= M22;
    g5 += g4 >>> 22; g4 &= M22;
    g0 += (g5 >>> 20) * 5; g5 &= 0xfffff;
  }
  // h mod p: subtract p = 2^130 - 5 when h + 5 reaches 2^130, chosen by mask.
  let f0 = g0 + 5;
  let f1 = g1 + (f0 >>> 22); f0 &= M22;
  let f2 = g2 + (f1 >>> 22); f1 &= M22;
  let f3 = g3 + (f2 >>> 22); f2 &= M22;
  let f4 = g4 + (f3 >>> 22); f3 &= M22;
  let f5 = g5 + (f4 >>> 22) - 0x100000; f4 &= M22;
  const useF = ~(f5 >> 31); // all ones when h + 5 - 2^130 >= 0
  const useG = ~useF;
  g0 = (g0 & useG) | (f0 & useF);
  g1 = (g1 & useG) | (f1 & useF);
  g2 = (g2 & useG) | (f2 & useF);
  g3 = (g3 & useG) | (f3 & useF);
  g4 = (g4 & useG) | (f4 & useF);
  g5 = (g5 & useG) | (f5 & useF & 0xfffff);

  // (h + s) mod 2^128, little-endian.
  const out = new Uint8Array(16);
  let acc = ((g0 | (g1 << 22)) >>> 0) + le32(key, 16);
  writeLe32(out, 0, acc);
  acc = Math.floor(acc / 4294967296) + (((g1 >>> 10) | (g2 << 12)) >>> 0) + le32(key, 20);
  writeLe32(out, 4, acc);
  acc = Math.floor(acc / 4294967296) + (((g2 >>> 20) | (g3 << 2) | (g4 << 24)) >>> 0) + le32(key, 24);
  writeLe32(out, 8, acc);
  acc = Math.floor(acc / 4294967296) + (((g4 >>> 8) | (g5 << 14)) >>> 0) + le32(key, 28);
  writeLe32(out, 12, acc);
  return out;
}

function writeLe32(b: Uint8Array, o: number, v: number): void {
  const w = v >>> 0;
  b[o] = w & 0xff;
  b[o + 1] = (w >>> 8) & 0xff;
  b[o + 2] = (w >>> 16) & 0xff;
  b[o + 3] = w >>> 24;
}
