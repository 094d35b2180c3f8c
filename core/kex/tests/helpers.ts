/**
 * Test-only support for the core/kex suites: hex helpers, scripted random sources that replay
 * published private keys through the methods, and the crypto providers to run against. This folder
 * is excluded from the build (tsconfig.build.json). It stays free of node:* like the rest of core/
 * (core/purity.test.ts checks every non-test file), so the *.test.ts files read the fixtures
 * themselves; {@link fixtureUrl} only says where they are.
 */
import type { CryptoProvider, RandomSource } from '../../crypto/provider.ts';
import { pureCrypto } from '../../crypto/pure.ts';
import type { KexContext } from '../types.ts';

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function unhex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error(`bad hex: ${s.slice(0, 20)}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A random source that returns the given chunks in order and insists each request asks for
 * exactly the next chunk's length, so a test also pins down what a method draws and when.
 */
export function scriptedRandom(...chunks: Uint8Array[]): RandomSource & { remaining(): number } {
  const queue = chunks.map((c) => Uint8Array.from(c));
  const source = (n: number): Uint8Array => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`scripted random exhausted (asked for ${n} bytes)`);
    if (next.length !== n) throw new Error(`scripted random: asked for ${n} bytes, next chunk has ${next.length}`);
    return next;
  };
  return Object.assign(source, { remaining: () => queue.length });
}

/** Wrap a random source and record the size of every request. */
export function recordingRandom(inner: RandomSource): RandomSource & { sizes: number[] } {
  const sizes: number[] = [];
  const source = (n: number): Uint8Array => {
    sizes.push(n);
    return inner(n);
  };
  return Object.assign(source, { sizes });
}

/** Where a file of fixtures/kex/ lives, for the test files to read. */
export function fixtureUrl(name: string): URL {
  return new URL(`../../../fixtures/kex/${name}`, import.meta.url);
}

/**
 * The providers under core/ the kex suites run against. The suites add io-node's nodeCrypto
 * themselves: only *.test.ts files may reach into an adapter (core/purity.test.ts).
 */
export const coreProviders: readonly CryptoProvider[] = [pureCrypto];

export function context(crypto: CryptoProvider, random: RandomSource): KexContext {
  return { crypto, random };
}

/** Run `fn` and return the error it throws, or fail if it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception, none was thrown');
}
