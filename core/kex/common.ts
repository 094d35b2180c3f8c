/**
 * Small helpers shared by the key-exchange methods (RFC 4253 section 8, RFC 5656 section 4,
 * RFC 8731 section 3): byte checks, wiping ephemeral secrets, and the one-shot guard on
 * {@link KexClientState.finish}.
 */
import { SshUsageError } from '../errors.ts';
import type { KexClientState } from './types.ts';

/** True when every byte is zero. Runs over the whole array so timing does not depend on where a non-zero byte is. */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** Overwrite an ephemeral secret once it is no longer needed, so it does not outlive the exchange in memory. */
export function wipe(...arrays: Uint8Array[]): void {
  for (const a of arrays) a.fill(0);
}

/**
 * Wrap a client's finish step so it runs at most once: the ephemeral private key is wiped after the
 * first call, so a second call could only compute garbage.
 */
export function clientState(clientValue: Uint8Array, finish: (serverValue: Uint8Array) => Uint8Array, secrets: Uint8Array[]): KexClientState {
  let used = false;
  return {
    clientValue,
    finish(serverValue: Uint8Array): Uint8Array {
      if (used) throw new SshUsageError('key exchange state already finished');
      used = true;
      try {
        return finish(serverValue);
      } finally {
        wipe(...secrets);
      }
    },
  };
}

/** Left-pad an unsigned big-endian value to `length` bytes; returns null if it does not fit. */
export function leftPad(bytes: Uint8Array, length: number): Uint8Array | null {
  if (bytes.length === length) return bytes;
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  const significant = bytes.length - start;
  if (significant > length) return null;
  const out = new Uint8Array(length);
  out.set(bytes.subarray(start), length - significant);
  return out;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
