/**
 * The shape every key-exchange method has (RFC 4253 section 8, RFC 5656 section 4, RFC 8731,
 * draft-ietf-sshm-mlkem-hybrid-kex). The engine owns the messages and the exchange hash; a method
 * only turns random bytes and the peer's public value into its own public value and the shared
 * secret K.
 *
 * Values are passed as the *contents* of their wire field: for `valueEncoding: 'string'` the string's
 * bytes, for `'mpint'` the unsigned big-endian magnitude (the engine writes the mpint framing).
 * The secret is returned the same way according to `secretEncoding`; the engine encodes it (mpint or
 * string) when hashing it into H and into the key derivation of RFC 4253 section 7.2.
 *
 * Invalid peer values (off-curve points, all-zero X25519 results, DH values outside [2, p-2], wrong
 * lengths) make the method throw {@link SshProtocolError} with reason KEY_EXCHANGE_FAILED.
 */
import type { CryptoProvider, HashName, RandomSource } from '../crypto/provider.ts';

export interface KexContext {
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
}

export interface KexClientState {
  /** Q_C / e: what the client sends in SSH_MSG_KEX_ECDH_INIT / KEXDH_INIT / KEX_DH_GEX_INIT. */
  readonly clientValue: Uint8Array;
  /** Compute K from the server's Q_S / f. */
  finish(serverValue: Uint8Array): Uint8Array;
}

export interface KexServerResult {
  /** Q_S / f: what the server sends in the reply. */
  readonly serverValue: Uint8Array;
  /** The shared secret K (contents, see secretEncoding). */
  readonly secret: Uint8Array;
}

export interface KexMethod {
  readonly name: string;
  readonly hash: HashName;
  readonly valueEncoding: 'string' | 'mpint';
  readonly secretEncoding: 'string' | 'mpint';
  clientStart(ctx: KexContext): KexClientState;
  serverRespond(ctx: KexContext, clientValue: Uint8Array): KexServerResult;
}

/** A finite-field group for diffie-hellman-group-exchange (RFC 4419). */
export interface DhGroup {
  readonly p: bigint;
  readonly g: bigint;
  /** Bit length of p. */
  readonly bits: number;
}
