/**
 * Password hashes for the server's password file, verified in pure TypeScript.
 *
 * - SHA-crypt, `$5$` (SHA-256) and `$6$` (SHA-512): the crypt(3) schemes of Ulrich Drepper's
 *   "Unix crypt using SHA-256 and SHA-512" specification, as written by glibc/libxcrypt,
 *   `openssl passwd -5/-6` and `mkpasswd`. Form: `$6$[rounds=N$]salt$hash`, salt of at most 16
 *   characters, N from 1000 to 999,999,999 (default 5000 when absent; the specification clamps
 *   other values when hashing, {@link shaCrypt} does too, but a stored hash outside the range is
 *   refused, as libxcrypt refuses it), hash in crypt's base64 alphabet `./0-9A-Za-z` in the
 *   specification's byte order.
 * - scrypt (RFC 7914), in a PHC-style string of our choosing, since crypt(3) has no scrypt form:
 *   `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash in standard base64 (RFC 4648
 *   section 4) without padding, as the PHC string format writes them. We write 16-byte salts and
 *   32-byte hashes and read hashes of 16 to 64 bytes.
 *
 * yescrypt (`$y$`), bcrypt (`$2b$`), MD5-crypt (`$1$`) and DES crypt are not supported; a file
 * that uses them gets a warning naming the line.
 *
 * Passwords are hashed as their UTF-8 bytes, which is what crypt(3) sees on a UTF-8 system, and
 * are limited to {@link MAX_PASSWORD_BYTES}.
 *
 * Cost of the hashes {@link hashPassword} writes, measured in this repository's test environment
 * (Node 20, pure @noble/hashes, a shared 2-core machine; median of six hash+verify pairs):
 * sha512-crypt with 15,000 rounds takes about 95 ms (12,000: 90 ms; glibc's default 5,000: 35 ms,
 * which is cheap for a file that may leak); scrypt with ln=14, r=8, p=1 (N = 16384, 16 MiB, the
 * interactive-login cost commonly recommended for scrypt) about 190 ms (ln=13: 100 ms, ln=15:
 * 370 ms). Verification costs the same as hashing.
 */
import { concatBytes } from '../wire/writer.ts';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type { RandomSource } from '../crypto/provider.ts';
import { constantTimeEqual, constantTimeEqualString } from './constant-time.ts';

export type PasswordScheme = 'sha512-crypt' | 'sha256-crypt' | 'scrypt';

/** Rounds written by {@link hashPassword} for SHA-crypt (see the module header for the timing). */
export const DEFAULT_SHA_CRYPT_ROUNDS = 15_000;
/** scrypt cost written by {@link hashPassword}: N = 2^14, r = 8, p = 1 (16 MiB). */
export const DEFAULT_SCRYPT_PARAMS = { ln: 14, r: 8, p: 1 } as const;

/**
 * Longer passwords are refused outright, as sshd does (MAX_PASSWORD_LEN): SHA-crypt hashes the
 * password len(P) times over, so its cost grows with the square of the length.
 */
export const MAX_PASSWORD_BYTES = 1024;

const SHA_CRYPT_DEFAULT_ROUNDS = 5000;
const SHA_CRYPT_MIN_ROUNDS = 1000;
const SHA_CRYPT_MAX_ROUNDS = 999_999_999;
const SHA_CRYPT_MAX_SALT = 16;

/** Verification above these costs is refused: a hash from a hostile or mistaken file must not pin the CPU or memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_SCRYPT_P = 16;

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The specification's output order: bytes taken three at a time, each group written low 6 bits first. */
const SHA512_ORDER: ReadonlyArray<readonly [number, number, number]> = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];
const SHA256_ORDER: ReadonlyArray<readonly [number, number, number]> = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26],
  [27, 7, 17], [18, 28, 8], [9, 19, 29],
];

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += CRYPT_ALPHABET[w & 63]!;
    w >>>= 6;
  }
  return out;
}

function encodeShaCrypt(kind: 5 | 6, d: Uint8Array): string {
  let out = '';
  for (const [a, b, c] of kind === 6 ? SHA512_ORDER : SHA256_ORDER) out += b64From24(d[a]!, d[b]!, d[c]!, 4);
  return kind === 6 ? out + b64From24(0, 0, d[63]!, 2) : out + b64From24(0, d[31]!, d[30]!, 3);
}


/** `n` bytes made of `block` repeated (the specification's P and S sequences and step 11's B runs). */
function repeatTo(block: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += block.length) out.set(block.subarray(0, Math.min(block.length, n - o)), o);
  return out;
}

/** The SHA-crypt digest (Drepper's specification, steps 1-21) before encoding. */
function shaCryptDigest(kind: 5 | 6, password: Uint8Array, salt: Uint8Array, rounds: number): Uint8Array {
  const hash = kind === 6 ? sha512 : sha256;
  const size = kind === 6 ? 64 : 32;
  const p = password;
  const s = salt;
  // Digest B = H(P S P).
  const b = hash(concatBytes(p, s, p));
  // Digest A = H(P S, then len(P) bytes of B, then per bit of len(P) from the lowest: B for 1, P for 0).
  const aParts: Uint8Array[] = [p, s, repeatTo(b, p.length)];
  for (let n = p.length; n > 0; n >>>= 1) aParts.push(n & 1 ? b : p);
  const a = hash(concatBytes(...aParts));
  // P sequence: len(P) bytes of H(P repeated len(P) times), hashed incrementally.
  const dp = hash.create();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pSeq = repeatTo(dp.digest(), p.length);
  // S sequence: len(S) bytes of H(S repeated 16 + A[0] times).
  const sSeq = repeatTo(hash(repeatTo(s, s.length * (16 + a[0]!))), s.length);
  // The rounds, each over one of eight fixed layouts chosen by r mod 2, 3 and 7. The layouts are
  // built once over a shared buffer whose digest slot is overwritten each round.
  const layouts: Array<{ buf: Uint8Array; at: number }> = [];
  for (let r = 0; r < 42; r++) {
    const parts: Array<Uint8Array | null> = [];
    parts.push(r & 1 ? pSeq : null);
    if (r % 3 !== 0) parts.push(sSeq);
    if (r % 7 !== 0) parts.push(pSeq);
    parts.push(r & 1 ? null : pSeq);
    const buf = new Uint8Array(parts.reduce((n, x) => n + (x ? x.length : size), 0));
    let o = 0;
    let at = 0;
    for (const x of parts) {
      if (x) buf.set(x, o);
      else at = o;
      o += x ? x.length : size;
    }
    layouts.push({ buf, at });
  }
  let c = a;
  for (let r = 0; r < rounds; r++) {
    const layout = layouts[r % 42]!;
    layout.buf.set(c, layout.at);
    c = hash(layout.buf);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Parsing hash strings

export type ParsedPasswordHash =
  | { readonly scheme: 'sha512-crypt' | 'sha256-crypt'; readonly rounds: number; readonly salt: string; readonly hash: string }
  | { readonly scheme: 'scrypt'; readonly ln: number; readonly r: number; readonly p: number; readonly salt: Uint8Array; readonly hash: Uint8Array };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function b64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.length - i;
    const v = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[v >> 18]! + B64[(v >> 12) & 63]!;
    if (n > 1) out += B64[(v >> 6) & 63]!;
    if (n > 2) out += B64[v & 63]!;
  }
  return out;
}

function b64Decode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of text) {
    acc = ((acc << 6) | B64.indexOf(ch)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Unpadded base64 must end on zero bits, or the same bytes would have several spellings.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/**
 * Parse a hash string. Returns the parts, or `{ error }` saying what is wrong with it (the message
 * never contains the hash itself, so it can be logged).
 */
export function parsePasswordHash(text: string): ParsedPasswordHash | { readonly error: string } {
  const sha = /^\$([56])\$(?:rounds=([0-9]{1,10})\$)?([^$:\n]*)\$([./0-9A-Za-z]*)$/.exec(text);
  if (sha) {
    const kind = sha[1] === '6' ? 6 : 5;
    const name = kind === 6 ? 'sha512-crypt ($6$)' : 'sha256-crypt ($5$)';
    const hash = sha[4]!;
    if (hash.length !== (kind === 6 ? 86 : 43)) return { error: `the ${name} hash is ${hash.length} characters instead of ${kind === 6 ? 86 : 43}; it is truncated or damaged` };
    const salt = sha[3]!;
    if (salt.length > SHA_CRYPT_MAX_SALT) return { error: `the ${name} salt is longer than ${SHA_CRYPT_MAX_SALT} characters, which crypt(3) never writes` };
    const rounds = sha[2] === undefined ? SHA_CRYPT_DEFAULT_ROUNDS : Number(sha[2]);
    // The specification clamps such values, but no crypt(3) writes them and libxcrypt refuses
    // them, so a stored hash carrying one is damaged or forged.
    if (rounds < SHA_CRYPT_MIN_ROUNDS || rounds > SHA_CRYPT_MAX_ROUNDS) {
      return { error: `rounds=${rounds} is outside ${SHA_CRYPT_MIN_ROUNDS}..${SHA_CRYPT_MAX_ROUNDS}, which no crypt(3) writes; set the password again` };
    }
    return { scheme: kind === 6 ? 'sha512-crypt' : 'sha256-crypt', rounds, salt, hash };
  }
  if (text.startsWith('$scrypt$')) {
    const m = /^\$scrypt\$ln=([0-9]{1,2}),r=([0-9]{1,3}),p=([0-9]{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
    if (!m) return { error: 'malformed scrypt hash; expected $scrypt$ln=<n>,r=<r>,p=<p>$<base64 salt>$<base64 hash>' };
    const ln = Number(m[1]);
    const r = Number(m[2]);
    const p = Number(m[3]);
    if (ln < 1 || ln > 24 || r < 1 || p < 1 || p > MAX_SCRYPT_P || 128 * r * 2 ** ln > MAX_SCRYPT_MEMORY) {
      return { error: `scrypt cost ln=${ln},r=${r},p=${p} is out of range (1 <= ln, r >= 1, 1 <= p <= ${MAX_SCRYPT_P}, 128*r*2^ln at most ${MAX_SCRYPT_MEMORY / 1024 / 1024} MiB)` };
    }
    const salt = b64Decode(m[4]!);
    const hash = b64Decode(m[5]!);
    if (!salt || !hash) return { error: 'the scrypt salt or hash is not valid unpadded base64' };
    if (salt.length < 8 || hash.length < 16 || hash.length > 64) return { error: `scrypt salt of ${salt.length} bytes or hash of ${hash.length} bytes is out of range (salt >= 8, hash 16-64)` };
    return { scheme: 'scrypt', ln, r, p, salt, hash };
  }
  const id = /^\$([^$]*)\$/.exec(text)?.[1];
  if (id === 'y' || id === '7' || id === 'gy') return { error: `yescrypt ($${id}$) hashes are not supported; set the password again with a sha512-crypt or scrypt hash` };
  if (id === '2a' || id === '2b' || id === '2y') return { error: 'bcrypt hashes are not supported; set the password again with a sha512-crypt or scrypt hash' };
  if (id === '1') return { error: 'MD5-crypt ($1$) hashes are obsolete and not supported; set the password again with a sha512-crypt hash' };
  if (text === '' || text === '*' || text.startsWith('!')) return { error: 'the account has no usable password (empty, "*" or locked with "!")' };
  return { error: 'unrecognised hash format; supported are $6$ (sha512-crypt), $5$ (sha256-crypt) and $scrypt$ hashes' };
}

// ---------------------------------------------------------------------------------------------
// Hashing and verifying

const utf8 = new TextEncoder();

export interface HashPasswordOptions {
  /** Default 'sha512-crypt', which every crypt(3) on Linux also reads. */
  readonly scheme?: PasswordScheme;
  /** SHA-crypt rounds (default {@link DEFAULT_SHA_CRYPT_ROUNDS}). */
  readonly rounds?: number;
  /** scrypt cost (default {@link DEFAULT_SCRYPT_PARAMS}). */
  readonly scrypt?: { readonly ln: number; readonly r: number; readonly p: number };
}

/** A fresh hash string for `password`, salted from `random`. */
export function hashPassword(password: string, random: RandomSource, options: HashPasswordOptions = {}): string {
  const scheme = options.scheme ?? 'sha512-crypt';
  const pw = utf8.encode(password);
  if (pw.length > MAX_PASSWORD_BYTES) throw new RangeError(`passwords are limited to ${MAX_PASSWORD_BYTES} bytes`);
  if (scheme === 'scrypt') {
    const { ln, r, p } = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
    const salt = random(16).slice(0, 16);
    const text = `$scrypt$ln=${ln},r=${r},p=${p}$${b64Encode(salt)}$`;
    const parsed = parsePasswordHash(`${text}${b64Encode(new Uint8Array(32))}`);
    if ('error' in parsed) throw new RangeError(parsed.error);
    return text + b64Encode(scrypt(pw, salt, { N: 2 ** ln, r, p, dkLen: 32, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 }));
  }
  const rounds = options.rounds ?? DEFAULT_SHA_CRYPT_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < SHA_CRYPT_MIN_ROUNDS || rounds > SHA_CRYPT_MAX_ROUNDS) {
    throw new RangeError(`SHA-crypt rounds must be an integer from ${SHA_CRYPT_MIN_ROUNDS} to ${SHA_CRYPT_MAX_ROUNDS}`);
  }
  // 16 salt characters from crypt's alphabet: 96 bits, the most the scheme stores.
  const salt = Array.from(random(SHA_CRYPT_MAX_SALT), (b) => CRYPT_ALPHABET[b & 63]!).join('');
  const kind = scheme === 'sha256-crypt' ? 5 : 6;
  return shaCryptString(kind, pw, salt, rounds, true);
}

function shaCryptString(kind: 5 | 6, password: Uint8Array, salt: string, rounds: number, showRounds: boolean): string {
  const digest = shaCryptDigest(kind, password, utf8.encode(salt), rounds);
  return `$${kind}$${showRounds ? `rounds=${rounds}$` : ''}${salt}$${encodeShaCrypt(kind, digest)}`;
}

/**
 * crypt(3) with a `$5$`/`$6$` setting (`$6$[rounds=N$]salt[$…]`), as glibc computes it: the salt is
 * cut at 16 characters and the rounds clamped. Exposed for cross-checks against other crypt(3)s.
 */
export function shaCrypt(password: string, setting: string): string {
  const m = /^\$([56])\$(?:rounds=([0-9]{1,10})\$)?([^$]*)/.exec(setting);
  if (!m) throw new RangeError('not a $5$ or $6$ setting');
  if (utf8.encode(password).length > MAX_PASSWORD_BYTES) throw new RangeError(`passwords are limited to ${MAX_PASSWORD_BYTES} bytes`);
  const rounds = m[2] === undefined ? SHA_CRYPT_DEFAULT_ROUNDS : Math.min(SHA_CRYPT_MAX_ROUNDS, Math.max(SHA_CRYPT_MIN_ROUNDS, Number(m[2])));
  return shaCryptString(m[1] === '6' ? 6 : 5, utf8.encode(password), m[3]!.slice(0, SHA_CRYPT_MAX_SALT), rounds, m[2] !== undefined);
}

/**
 * Does `password` match `hash`? False for every malformed or unsupported hash. The final
 * comparison is constant-time; the work before it depends only on the hash's parameters.
 */
export function verifyPassword(password: string, hash: string): boolean {
  const parsed = parsePasswordHash(hash);
  if ('error' in parsed) return false;
  const pw = utf8.encode(password);
  if (pw.length > MAX_PASSWORD_BYTES) return false;
  if (parsed.scheme === 'scrypt') {
    const derived = scrypt(pw, parsed.salt, { N: 2 ** parsed.ln, r: parsed.r, p: parsed.p, dkLen: parsed.hash.length, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 });
    return constantTimeEqual(derived, parsed.hash);
  }
  const kind = parsed.scheme === 'sha512-crypt' ? 6 : 5;
  const digest = shaCryptDigest(kind, pw, utf8.encode(parsed.salt), parsed.rounds);
  return constantTimeEqualString(encodeShaCrypt(kind, digest), parsed.hash);
}

// ---------------------------------------------------------------------------------------------
// Password files

export interface PasswordFileWarning {
  readonly source: string;
  /** 1-based; 0 when the warning is about the whole file (its permissions). */
  readonly line: number;
  readonly message: string;
}

export interface PasswordFile {
  /** user name → hash string, for the lines that are usable. */
  readonly users: Map<string, string>;
  readonly warnings: PasswordFileWarning[];
}

/** SHA-crypt rounds above which a warning says logins will be slow. */
const SLOW_ROUNDS = 5_000_000;

/**
 * Parse a password file of `user:hash` lines (`#` comments and blank lines ignored; anything after
 * a second `:` is ignored, so `/etc/shadow`-style lines work too). Lines with unknown or malformed
 * hashes are skipped with a warning naming the line and the fix; a repeated user keeps its first line.
 */
export function parsePasswordFile(text: string, source: string): PasswordFile {
  const users = new Map<string, string>();
  const warnings: PasswordFileWarning[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const warn = (what: string) => warnings.push({ source, line, message: `${source}:${line}: ${what}` });
    const t = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (t.trim() === '' || t.trimStart().startsWith('#')) return;
    const colon = t.indexOf(':');
    if (colon < 0) {
      warn('expected "user:hash"; the line has no ":" (create hashes with hashPasswordForFile or `openssl passwd -6`)');
      return;
    }
    const user = t.slice(0, colon);
    const rest = t.slice(colon + 1);
    const hash = rest.includes(':') ? rest.slice(0, rest.indexOf(':')) : rest;
    if (user === '' || /\s/.test(user)) {
      warn(`"${user}" is not a user name (empty or containing blanks); write "user:hash" with no spaces`);
      return;
    }
    const parsed = parsePasswordHash(hash.trim());
    if ('error' in parsed) {
      warn(`user "${user}": ${parsed.error}; this user cannot log in with a password until the line is fixed`);
      return;
    }
    if (users.has(user)) {
      warn(`user "${user}" appears again; only the first line counts — delete this one`);
      return;
    }
    if (parsed.scheme !== 'scrypt' && parsed.rounds > SLOW_ROUNDS) {
      warn(`user "${user}": ${parsed.rounds} rounds make each login attempt take seconds or more; rehash with fewer rounds`);
    }
    users.set(user, hash.trim());
  });
  return { users, warnings };
}
