/**
 * ChaCha20 in its original (DJB) form: 256-bit key, 64-bit nonce, 64-bit block counter. This is the
 * variant PROTOCOL.chacha20poly1305 uses; the core block function and quarter round are those of
 * RFC 8439 section 2.1-2.3 (the IETF variant only splits the last four state words differently:
 * 32-bit counter and 96-bit nonce instead of 64/64).
 *
 * Written for the packet hot path: the whole block is kept in locals, and when input and output are
 * both 4-byte aligned on a little-endian host the XOR runs on 32-bit words.
 */

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;
// "expand 32-byte k"
const C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;

/** Signed on purpose: keeping every state word an int32 lets V8 stay in integer registers. */
function le32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

/**
 * Computes one keystream block into `out` (16 words). Kept as a separate function so V8 can
 * inline it while the caller's loop stays small.
 */
function block(
  k0: number, k1: number, k2: number, k3: number, k4: number, k5: number, k6: number, k7: number,
  c0: number, c1: number, n0: number, n1: number, out: Uint32Array,
): void {
  const j0 = C0, j1 = C1, j2 = C2, j3 = C3;
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
  let x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = c0, x13 = c1, x14 = n0, x15 = n1;
  for (let i = 0; i < 10; i++) {
    // column round
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);

    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);

    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);

    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);

    // diagonal round
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);

    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);

    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);

    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  out[0] = (x0 + j0) | 0; out[1] = (x1 + j1) | 0; out[2] = (x2 + j2) | 0; out[3] = (x3 + j3) | 0;
  out[4] = (x4 + k0) | 0; out[5] = (x5 + k1) | 0; out[6] = (x6 + k2) | 0; out[7] = (x7 + k3) | 0;
  out[8] = (x8 + k4) | 0; out[9] = (x9 + k5) | 0; out[10] = (x10 + k6) | 0; out[11] = (x11 + k7) | 0;
  out[12] = (x12 + c0) | 0; out[13] = (x13 + c1) | 0; out[14] = (x14 + n0) | 0; out[15] = (x15 + n1) | 0;
}

const ks = new Uint32Array(16);

/**
 * output = input XOR ChaCha20(key, nonce) keystream starting at 64-byte block `counter`.
 * `output` may be `input` (in place). `counter` is a non-negative safe integer; the 64-bit block
 * counter wraps as a 64-bit value would.
 */
export function chacha20Xor(
  key: Uint8Array, nonce: Uint8Array, counter: number, input: Uint8Array, output: Uint8Array,
): void {
  if (key.length !== 32) throw new RangeError('chacha20: key must be 32 bytes');
  if (nonce.length !== 8) throw new RangeError('chacha20: nonce must be 8 bytes');
  if (output.length < input.length) throw new RangeError('chacha20: output too short');
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('chacha20: bad counter');
  const k0 = le32(key, 0), k1 = le32(key, 4), k2 = le32(key, 8), k3 = le32(key, 12);
  const k4 = le32(key, 16), k5 = le32(key, 20), k6 = le32(key, 24), k7 = le32(key, 28);
  const n0 = le32(nonce, 0), n1 = le32(nonce, 4);
  let c0 = (counter % TWO32) | 0;
  let c1 = Math.floor(counter / TWO32) | 0;
  const len = input.length;
  const fullEnd = len - (len % 64);
  let pos = 0;
  if (littleEndian && (input.byteOffset & 3) === 0 && (output.byteOffset & 3) === 0 && fullEnd > 0) {
    const in32 = new Uint32Array(input.buffer, input.byteOffset, fullEnd >>> 2);
    const out32 = new Uint32Array(output.buffer, output.byteOffset, fullEnd >>> 2);
    for (let w = 0; pos < fullEnd; pos += 64, w += 16) {
      // The block function again, inlined: the XOR reads the state straight from registers.
      let x0 = C0, x1 = C1, x2 = C2, x3 = C3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
      let x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = c0, x13 = c1, x14 = n0, x15 = n1;
      for (let i = 0; i < 10; i++) {
        // column round
        x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
        x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
        x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
        x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);

        x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
        x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
        x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
        x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);

        x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
        x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
        x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
        x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);

        x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
        x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
        x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
        x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);

        // diagonal round
        x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
        x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
        x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
        x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);

        x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
        x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
        x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
        x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);

        x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
        x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
        x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
        x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);

        x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
        x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
        x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
        x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
      }
      out32[w] = in32[w]! ^ (x0 + C0); out32[w + 1] = in32[w + 1]! ^ (x1 + C1);
      out32[w + 2] = in32[w + 2]! ^ (x2 + C2); out32[w + 3] = in32[w + 3]! ^ (x3 + C3);
      out32[w + 4] = in32[w + 4]! ^ (x4 + k0); out32[w + 5] = in32[w + 5]! ^ (x5 + k1);
      out32[w + 6] = in32[w + 6]! ^ (x6 + k2); out32[w + 7] = in32[w + 7]! ^ (x7 + k3);
      out32[w + 8] = in32[w + 8]! ^ (x8 + k4); out32[w + 9] = in32[w + 9]! ^ (x9 + k5);
      out32[w + 10] = in32[w + 10]! ^ (x10 + k6); out32[w + 11] = in32[w + 11]! ^ (x11 + k7);
      out32[w + 12] = in32[w + 12]! ^ (x12 + c0); out32[w + 13] = in32[w + 13]! ^ (x13 + c1);
      out32[w + 14] = in32[w + 14]! ^ (x14 + n0); out32[w + 15] = in32[w + 15]! ^ (x15 + n1);
      c0 = (c0 + 1) | 0;
      if (c0 === 0) c1 = (c1 + 1) | 0;
    }
  }
  while (pos < len) {
    block(k0, k1, k2, k3, k4, k5, k6, k7, c0, c1, n0, n1, ks);
    const n = Math.min(64, len - pos);
    for (let i = 0; i < n; i++) {
      output[pos + i] = input[pos + i]! ^ ((ks[i >>> 2]! >>> ((i & 3) << 3)) & 0xff);
    }
    pos += n;
    c0 = (c0 + 1) | 0;
    if (c0 === 0) c1 = (c1 + 1) | 0;
  }
  ks.fill(0);
}

/** Returns a new array: data XOR keystream. */
export function chacha20(key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  chacha20Xor(key, nonce, counter, data, out);
  return out;
}
