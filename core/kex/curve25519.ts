/**
 * curve25519-sha256 and its pre-standard alias curve25519-sha256@libssh.org (RFC 8731 sections 3
 * and 3.1; X25519 itself is RFC 7748 section 5).
 *
 * Q_C and Q_S are the 32-byte X25519 public keys, sent as strings. K is the 32-byte X25519 output
 * read as an unsigned big-endian integer (RFC 8731 section 3.1 deliberately ignores X25519's
 * little-endian convention here) and hashed as an mpint; we hand the engine the raw 32 bytes and
 * it strips leading zeros when it writes the mpint. Public keys of any other length, and an
 * all-zero output (a low-order or otherwise degenerate peer key, RFC 7748 section 6.1), abort the
 * exchange with KEY_EXCHANGE_FAILED.
 */
import { kexError } from '../errors.ts';
import { clientState, isAllZero, wipe } from './common.ts';
import type { KexContext, KexMethod, KexServerResult } from './types.ts';

export const X25519_KEY_BYTES = 32;

export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A fresh ephemeral key pair; the private scalar is 32 bytes from ctx.random (the provider clamps it). */
export function x25519KeyPair(ctx: KexContext): X25519KeyPair {
  const privateKey = ctx.random(X25519_KEY_BYTES);
  return { privateKey, publicKey: ctx.crypto.x25519PublicKey(privateKey) };
}

/**
 * X25519 with the checks RFC 8731 section 3 requires of both sides. `who` names the peer in the
 * error so a log says whose value was bad.
 */
export function x25519Agree(ctx: KexContext, privateKey: Uint8Array, peerPublicKey: Uint8Array, who: string): Uint8Array {
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw kexError(`${who} X25519 public key is ${peerPublicKey.length} bytes, expected ${X25519_KEY_BYTES}`);
  }
  let shared: Uint8Array;
  try {
    shared = ctx.crypto.x25519SharedSecret(privateKey, peerPublicKey);
  } catch (cause) {
    // Providers disagree on how they report a degenerate result (throw vs. zeros); either way it is the peer's key.
    throw kexError(`${who} X25519 public key rejected: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (shared.length !== X25519_KEY_BYTES || isAllZero(shared)) {
    throw kexError(`${who} X25519 public key gives an all-zero shared secret`);
  }
  return shared;
}

function curve25519Method(name: string): KexMethod {
  return {
    name,
    hash: 'sha256',
    valueEncoding: 'string',
    secretEncoding: 'mpint',
    clientStart(ctx) {
      const { privateKey, publicKey } = x25519KeyPair(ctx);
      return clientState(publicKey, (serverValue) => x25519Agree(ctx, privateKey, serverValue, 'server'), [privateKey]);
    },
    serverRespond(ctx, clientValue): KexServerResult {
      if (clientValue.length !== X25519_KEY_BYTES) {
        throw kexError(`client X25519 public key is ${clientValue.length} bytes, expected ${X25519_KEY_BYTES}`);
      }
      const { privateKey, publicKey } = x25519KeyPair(ctx);
      try {
        return { serverValue: publicKey, secret: x25519Agree(ctx, privateKey, clientValue, 'client') };
      } finally {
        wipe(privateKey);
      }
    },
  };
}

export const curve25519Sha256: KexMethod = curve25519Method('curve25519-sha256');
export const curve25519Sha256Libssh: KexMethod = curve25519Method('curve25519-sha256@libssh.org');
