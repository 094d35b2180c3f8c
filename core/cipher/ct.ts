/**
 * Constant-time comparison for MACs and tags (RFC 4253 section 6.4 leaves the check to the
 * implementation; PROTOCOL.chacha20poly1305 requires it be constant time). The running time depends
 * only on the lengths, never on where the first difference is.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
