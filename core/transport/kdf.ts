/**
 * Key derivation, RFC 4253 section 7.2: key X = HASH(K || H || X || session_id), extended by
 * HASH(K || H || K1 || ... ) until long enough. K arrives already wire-encoded (mpint or string,
 * as the kex method dictates).
 */
import type { CryptoProvider, HashName } from '../crypto/provider.ts';

export function deriveKey(
  crypto: CryptoProvider,
  hash: HashName,
  encodedK: Uint8Array,
  exchangeHash: Uint8Array,
  letter: 'A' | 'B' | 'C' | 'D' | 'E' | 'F',
  sessionId: Uint8Array,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const first = crypto.createHash(hash).update(encodedK).update(exchangeHash).update(new Uint8Array([letter.charCodeAt(0)])).update(sessionId).digest();
  out.set(first.subarray(0, Math.min(length, first.length)));
  let have = first.length;
  while (have < length) {
    const next = crypto.createHash(hash).update(encodedK).update(exchangeHash).update(out.subarray(0, have)).digest();
    out.set(next.subarray(0, Math.min(length - have, next.length)), have);
    have += next.length;
  }
  return out;
}
