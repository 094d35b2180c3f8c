/**
 * Public entry of core's test helpers, for the adapters' and property tests: two engines joined in
 * memory on virtual time ({@link Pair}), the protocol scenarios both vitest and `deno test` run on
 * it, and a pure crypto provider for key derivation and signatures in key tests.
 */
export { Pair, type PairOptions, type PairUser } from './pair.ts';
export { handshakeScenario, rekeyScenario, sessionScenario, type HandshakeChoice } from './scenarios.ts';
export { nobleTestCrypto } from '../keys/tests/noble-test-crypto.ts';
