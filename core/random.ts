/**
 * Random sources. The engine takes a {@link RandomSource}; the default draws from
 * `globalThis.crypto.getRandomValues` (Web Crypto, present in Node and Deno). A seeded source
 * (ChaCha20 keystream keyed by SHA-256 of the seed) makes runs reproducible for tests and fuzzing;
 * it must never be used for real connections.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomSource } from './crypto/provider.ts';

/**
 * Small requests (packet padding: a few bytes per packet) are served from a pool refilled 4 KiB at
 * a time: one getRandomValues call costs ~10 µs here, which per packet would dominate bulk
 * throughput. Served bytes are zeroed in the pool so they never leave twice.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

function fill(out: Uint8Array): void {
  // getRandomValues is limited to 65536 bytes per call.
  for (let o = 0; o < out.length; o += 65536) globalThis.crypto.getRandomValues(out.subarray(o, Math.min(out.length, o + 65536)));
}

export const systemRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  if (n > 256) {
    fill(out);
    return out;
  }
  if (poolOffset + n > POOL_SIZE) {
    fill(pool);
    poolOffset = 0;
  }
  out.set(pool.subarray(poolOffset, poolOffset + n));
  pool.fill(0, poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
};

/** Deterministic random bytes from a seed. For tests only. */
export function seededRandom(seed: string | Uint8Array): RandomSource {
  const key = sha256(typeof seed === 'string' ? new TextEncoder().encode(seed) : seed);
  const nonce = new Uint8Array(12);
  let counter = 0;
  return (n) => {
    const blocks = Math.ceil(n / 64);
    const out = chacha20(key, nonce, new Uint8Array(blocks * 64), undefined, counter);
    counter += blocks;
    return out.subarray(0, n);
  };
}
