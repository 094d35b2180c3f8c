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
export type { AeadCipher, CryptoProvider, HashName, Hasher, RandomSource, RsaPrivateKey, RsaPublicKey, StreamCipher } from './crypto/provider.ts';
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
export { hashPassword, parsePasswordFile, parsePasswordHash, shaCrypt, verifyPassword } from './auth/password-hash.ts';
export type { HashPasswordOptions, ParsedPasswordHash, PasswordFile, PasswordFileWarning, PasswordScheme } from './auth/password-hash.ts';
export { constantTimeEqualString } from './auth/constant-time.ts';
// The SSH agent protocol's answers, for serving an agent (agent forwarding, test agents).
export { encodeFailure, encodeIdentitiesAnswer, encodeSignResponse, encodeSuccess, frameAgentMessage } from './agent/protocol.ts';
// The wire codec (RFC 4251 section 5): payloads of custom requests, subsystems and key blobs.
export { SshReader, bytesToBigint } from './wire/reader.ts';
export { SshWriter, bigintToBytes } from './wire/writer.ts';
// Packet protection (one seam keyed by sequence number) and the pure helpers a native crypto
// provider reuses (io-node's node:crypto provider, benchmarks).
export { cipherInfo, createOpener, createSealer, macInfo } from './cipher/index.ts';
export type { AeadWithAadPrefix, CipherInfo, MacInfo, PacketKeys, PacketOpener, PacketSealer } from './cipher/types.ts';
export { poly1305 } from './cipher/primitives/poly1305.ts';
export { ecCurveOrder, ecFieldLength, isAllZero, isUncompressedPoint, modPowBigint, normalizeScalar } from './crypto/pure.ts';
