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
export { ConnectionLayer, OpenFailure, DEFAULT_MAX_PACKET, DEFAULT_WINDOW } from './connection/connection.ts';
export type { ChannelInfo, SessionPolicy } from './connection/connection.ts';
export type { ChannelOpenRequest, ChannelRequest, GlobalRequest } from './connection/messages.ts';
export { decodeTerminalModes, encodeTerminalModes, TERMINAL_MODE_OPCODES } from './connection/terminal-modes.ts';
export type { TerminalModes, TerminalModeName } from './connection/terminal-modes.ts';
export { ClientAuth, SshAuthenticationError, DEFAULT_CLIENT_AUTH_METHODS } from './auth/client.ts';
export type { ClientAuthMethod, ClientAuthOptions, ClientPublicKey, HostbasedIdentity } from './auth/client.ts';
export * from './agent/client.ts';
export { hashPassword, parsePasswordFile, verifyPassword } from './auth/password-hash.ts';
export { constantTimeEqualString } from './auth/constant-time.ts';
