/**
 * bcrypt_pbkdf, the key derivation function of passphrase-protected `openssh-key-v1` files
 * (OpenSSH PROTOCOL.key section 2: kdfname "bcrypt", kdfoptions `string salt || uint32 rounds`).
 *
 * It is PBKDF2 (RFC 8018 section 5.2) with its pseudo-random function replaced by a bcrypt-style
 * hash, as specified by OpenBSD's bcrypt_pbkdf(3) (Ted Unangst, 2013):
 *
 * - The password is hashed once with SHA-512; each block's salt is SHA-512(salt || INT(i))
 *   (block index i from 1, big-endian), later iterations SHA-512 of the previous output.
 * - The "hash" H(sha2pass, sha2salt) is Provos and Mazières' EksBlowfish setup ("A Future-Adaptable
 *   Password Scheme", USENIX 1999) with a fixed cost of 64: state from the digits of pi, one
 *   salted key expansion, then 64 × (expand with the salt, expand with the password). The 32-byte
 *   text "OxychromaticBlowfishSwatDynamite" (eight big-endian words) is encrypted 64 times in ECB
 *   mode and the eight words are output little-endian.
 * - Unlike PBKDF2, the output is interleaved: with `stride = ceil(keyLength / 32)`, byte j of
 *   block i lands at `j * stride + (i - 1)`, so no part of the key is cheaper than the whole.
 *
 * Blowfish itself is Schneier's ("Description of a New Variable-Length Key, 64-Bit Block Cipher",
 * FSE 1993): 16 Feistel rounds, F(x) = ((S0[a] + S1[b]) ^ S2[c]) + S3[d], an 18-word P-array and
 * four 256-word S-boxes initialised with the fractional hexadecimal digits of pi. Those 1042 words
 * are computed here from Machin's formula rather than pasted, and the tests pin them against the
 * values printed in Schneier's paper.
 */
import { sha512 } from '@noble/hashes/sha2.js';

/** 18 P words followed by the four S-boxes. */
const STATE_WORDS = 18 + 4 * 256;
const S0 = 18;
const S1 = S0 + 256;
const S2 = S1 + 256;
const S3 = S2 + 256;

/** The text bcrypt encrypts, lengthened to 32 bytes by bcrypt_pbkdf. */
const MAGIC = new TextEncoder().encode('OxychromaticBlowfishSwatDynamite');
/** bcrypt_pbkdf fixes the cost: 64 expansion rounds and 64 encryptions of the magic text. */
const EKS_ROUNDS = 64;
const HASH_BYTES = 32;

let piState: Uint32Array | null = null;

/**
 * The first {@link STATE_WORDS} 32-bit words of pi's fractional part (0x243f6a88, 0x85a308d3, …),
 * from pi = 16·atan(1/5) − 4·atan(1/239) in fixed point with 64 guard bits. Computed once, lazily.
 */
export function blowfishInitialState(): Uint32Array {
  if (piState) return piState;
  const bits = STATE_WORDS * 32;
  const precision = BigInt(bits + 64);
  const one = 1n << precision;
  const arctanInverse = (x: bigint): bigint => {
    const x2 = x * x;
    let power = one / x;
    let sum = power;
    for (let k = 1n; power !== 0n; k++) {
      power /= x2;
      const term = power / (2n * k + 1n);
      sum = k & 1n ? sum - term : sum + term;
    }
    return sum;
  };
  const pi = 16n * arctanInverse(5n) - 4n * arctanInverse(239n);
  const fraction = (pi - 3n * one) >> 64n;
  const hex = fraction.toString(16).padStart(bits / 4, '0');
  const state = new Uint32Array(STATE_WORDS);
  for (let i = 0; i < STATE_WORDS; i++) state[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  piState = state;
  return state;
}

/**
 * Blowfish with its state in one array (P at 0..17, S-boxes after), so the key schedules can
 * write encryption output straight back into it, as both Blowfish and EksBlowfish do. Words are
 * kept as int32 so that the additions in F stay in 32-bit integer arithmetic (`| 0` wraps them).
 */
export class Blowfish {
  readonly state: Int32Array;
  /** Output of {@link encrypt} as unsigned words, kept in fields to avoid allocating per block. */
  left = 0;
  right = 0;

  constructor() {
    this.state = Int32Array.from(blowfishInitialState());
  }

  /** Standard Blowfish key setup (Schneier 1993): a key of 1 to 72 bytes. */
  static withKey(key: Uint8Array): Blowfish {
    if (key.length < 1 || key.length > 72) throw new RangeError('a Blowfish key is 1 to 72 bytes');
    const bf = new Blowfish();
    bf.expand(cycledWords(key, 18), null);
    return bf;
  }

  /** Encrypt one block (two big-endian words); the result is in `left`/`right`. */
  encrypt(left: number, right: number): void {
    const block = encryptBlock(this.state, left | 0, right | 0);
    this.left = block.l >>> 0;
    this.right = block.r >>> 0;
  }

  /**
   * The key schedule step shared by Blowfish and EksBlowfish: XOR the key words (the key cycled
   * to 18 words) into P, then replace P and the S-boxes pairwise by a chain of encryptions.
   * EksBlowfish's salted variant XORs the next two salt words (the salt cycled) into the block
   * before each encryption; plain Blowfish and the unsalted expansions pass `saltWords = null`.
   */
  expand(keyWords: Int32Array, saltWords: Int32Array | null): void {
    const s = this.state;
    for (let i = 0; i < 18; i++) s[i] = s[i]! ^ keyWords[i]!;
    const saltLength = saltWords ? saltWords.length : 0;
    let l = 0;
    let r = 0;
    for (let i = 0, w = 0; i < STATE_WORDS; i += 2) {
      if (saltWords) {
        l ^= saltWords[w]!;
        r ^= saltWords[w + 1]!;
        w = w + 2 === saltLength ? 0 : w + 2;
      }
      // One block encryption, inlined: this loop is where bcrypt spends its time.
      for (let k = 0; k < 16; k += 2) {
        l ^= s[k]!;
        r ^= ((((s[S0 + (l >>> 24)]! + s[S1 + ((l >>> 16) & 0xff)]!) | 0) ^ s[S2 + ((l >>> 8) & 0xff)]!) + s[S3 + (l & 0xff)]!) | 0;
        r ^= s[k + 1]!;
        l ^= ((((s[S0 + (r >>> 24)]! + s[S1 + ((r >>> 16) & 0xff)]!) | 0) ^ s[S2 + ((r >>> 8) & 0xff)]!) + s[S3 + (r & 0xff)]!) | 0;
      }
      const outL = r ^ s[17]!;
      r = l ^ s[16]!;
      l = outL;
      s[i] = l;
      s[i + 1] = r;
    }
  }
}

const scratch = { l: 0, r: 0 };

/** One Blowfish block encryption: 16 Feistel rounds, two per iteration, final swap folded in. */
function encryptBlock(s: Int32Array, left: number, right: number, out: { l: number; r: number } = scratch): { l: number; r: number } {
  let l = left;
  let r = right;
  for (let i = 0; i < 16; i += 2) {
    l ^= s[i]!;
    r ^= ((((s[S0 + (l >>> 24)]! + s[S1 + ((l >>> 16) & 0xff)]!) | 0) ^ s[S2 + ((l >>> 8) & 0xff)]!) + s[S3 + (l & 0xff)]!) | 0;
    r ^= s[i + 1]!;
    l ^= ((((s[S0 + (r >>> 24)]! + s[S1 + ((r >>> 16) & 0xff)]!) | 0) ^ s[S2 + ((r >>> 8) & 0xff)]!) + s[S3 + (r & 0xff)]!) | 0;
  }
  out.l = r ^ s[17]!;
  out.r = l ^ s[16]!;
  return out;
}

/**
 * `count` big-endian words read from `bytes` cyclically, wrapping at its end: how Blowfish reads
 * its key, and EksBlowfish its salt.
 */
function cycledWords(bytes: Uint8Array, count: number): Int32Array {
  const out = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    let w = 0;
    for (let k = 0; k < 4; k++) {
      w = (w << 8) | bytes[at]!;
      at = at + 1 === bytes.length ? 0 : at + 1;
    }
    out[i] = w;
  }
  return out;
}

const MAGIC_WORDS = cycledWords(MAGIC, HASH_BYTES / 4);

/** The bcrypt_pbkdf inner hash of the SHA-512 digests (64 bytes, 16 words) of password and salt. */
function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const bf = new Blowfish();
  // Both inputs are 64 bytes: as keys they cycle over P's 18 words; as salt its 16 words are
  // consumed two per block, continuing (and wrapping) from P into the S-boxes.
  const passKey = cycledWords(sha2pass, 18);
  const saltKey = cycledWords(sha2salt, 18);
  const saltWords = cycledWords(sha2salt, 16);
  bf.expand(passKey, saltWords);
  for (let i = 0; i < EKS_ROUNDS; i++) {
    bf.expand(saltKey, null);
    bf.expand(passKey, null);
  }
  const words = Int32Array.from(MAGIC_WORDS);
  const block = { l: 0, r: 0 };
  for (let i = 0; i < EKS_ROUNDS; i++) {
    for (let j = 0; j < words.length; j += 2) {
      encryptBlock(bf.state, words[j]!, words[j + 1]!, block);
      words[j] = block.l;
      words[j + 1] = block.r;
    }
  }
  const out = new Uint8Array(HASH_BYTES);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = w >>> 24;
  }
  bf.state.fill(0);
  return out;
}

/**
 * Derive `keyLength` bytes (1 to 1024) from a password and salt with `rounds` iterations (≥ 1).
 * Each round costs about a millisecond or two; callers reading attacker-supplied files must
 * bound `rounds` before calling (see openssh-encryption.ts).
 */
export function bcryptPbkdf(password: Uint8Array, salt: Uint8Array, rounds: number, keyLength: number): Uint8Array {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('bcrypt_pbkdf needs at least 1 round');
  if (password.length === 0) throw new RangeError('bcrypt_pbkdf needs a non-empty password');
  if (salt.length === 0 || salt.length > 1 << 20) throw new RangeError('bcrypt_pbkdf needs a salt of 1 byte to 1 MiB');
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > HASH_BYTES * HASH_BYTES) {
    throw new RangeError(`bcrypt_pbkdf derives 1 to ${HASH_BYTES * HASH_BYTES} bytes`);
  }
  const stride = Math.ceil(keyLength / HASH_BYTES);
  const perBlock = Math.ceil(keyLength / stride);
  const sha2pass = sha512(password);
  const countSalt = new Uint8Array(salt.length + 4);
  countSalt.set(salt);
  const key = new Uint8Array(keyLength);
  for (let block = 1; block <= stride; block++) {
    new DataView(countSalt.buffer).setUint32(salt.length, block);
    let tmp = bcryptHash(sha2pass, sha512(countSalt));
    const out = tmp.slice();
    for (let i = 1; i < rounds; i++) {
      tmp = bcryptHash(sha2pass, sha512(tmp));
      for (let j = 0; j < HASH_BYTES; j++) out[j] = out[j]! ^ tmp[j]!;
    }
    for (let j = 0; j < perBlock; j++) {
      const dest = j * stride + (block - 1);
      if (dest >= keyLength) break;
      key[dest] = out[j]!;
    }
  }
  return key;
}
