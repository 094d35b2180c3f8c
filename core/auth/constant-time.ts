/**
 * Constant-time comparisons for secrets checked during authentication (password hashes, tokens).
 * The byte comparison is the one core/cipher/ct.ts already uses for MACs (RFC 4253 section 6.4,
 * PROTOCOL.chacha20poly1305), re-exported so auth code does not reach into the cipher layer.
 *
 * Only the lengths can leak. Callers compare values of a public, fixed length (a hash of known
 * size), so that reveals nothing.
 */
import { constantTimeEqual } from '../cipher/ct.ts';

export { constantTimeEqual };

const utf8 = new TextEncoder();

/** Constant-time equality of two strings, compared as their UTF-8 bytes. */
export function constantTimeEqualString(a: string, b: string): boolean {
  return constantTimeEqual(utf8.encode(a), utf8.encode(b));
}
