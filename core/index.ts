/**
 * hermit-ssh core: the sans-IO SSH engine and everything it is built from that an embedder may
 * need directly (errors, events, algorithm lists, key handling, crypto providers, random sources).
 */
export { SshEngine } from './engine.ts';
export type { SshEngineOptions, SshEngineSnapshot, SshRole, SshStatistics } from './engine.ts';
export * from './errors.ts';
export type * from './events.ts';
export { applyAlgorithmOption, defaultAlgorithms, resolveAlgorithms, supportedCipher, supportedHostKey, supportedKex, supportedMac } from './transport/algorithms.ts';
export type { AlgorithmPreferences } from './transport/algorithms.ts';
export type { CryptoProvider, RandomSource } from './crypto/provider.ts';
export { pureCrypto } from './crypto/pure.ts';
export { seededRandom, systemRandom } from './random.ts';
export * from './keys/index.ts';
