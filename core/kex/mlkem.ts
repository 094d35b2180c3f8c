/**
 * mlkem768x25519-sha256: the PQ/T hybrid of ML-KEM-768 (FIPS 203) and X25519 (RFC 8731), per
 * draft-ietf-sshm-mlkem-hybrid-kex (section 2.1 abstraction, 2.3.3 method, 2.4 shared secret,
 * 2.5 key derivation), as OpenSSH 9.9+ speaks it.
 *
 *   C_INIT  = ML-KEM-768 encapsulation key (1184 bytes) || client X25519 public key (32)
 *   S_REPLY = ML-KEM-768 ciphertext (1088 bytes)        || server X25519 public key (32)
 *   K       = SHA-256(K_PQ || K_CL), hashed into H and the key derivation as a *string*
 *
 * K_CL is the raw 32-byte X25519 output: the fixed-size big-endian re-encoding of the integer the
 * standalone curve25519 method would have produced, i.e. the very same bytes. The draft requires
 * exact-length checks on C_INIT and S_REPLY before any KEM operation, the FIPS 203 section 7.2
 * encapsulation-key (modulus) check on the server, and the RFC 8731 checks on the X25519 halves;
 * every failure is KEY_EXCHANGE_FAILED.
 *
 * ML-KEM has no place in the CryptoProvider seam (OpenSSL offers no common API for it), so it runs
 * on @noble/post-quantum everywhere. Its randomness — the 64-byte keygen seed d || z and the
 * 32-byte encapsulation message m — comes from ctx.random so seeded runs reproduce. Each side draws
 * the ML-KEM randomness first, then the X25519 scalar.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { kexError } from '../errors.ts';
import { clientState, concat, wipe } from './common.ts';
import { X25519_KEY_BYTES, x25519Agree, x25519KeyPair } from './curve25519.ts';
import type { KexContext, KexMethod, KexServerResult } from './types.ts';

export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
const MLKEM_SEED_BYTES = 64;
const MLKEM_MESSAGE_BYTES = 32;

export const MLKEM768X25519_CLIENT_VALUE_BYTES = MLKEM768_PUBLIC_KEY_BYTES + X25519_KEY_BYTES;
export const MLKEM768X25519_SERVER_VALUE_BYTES = MLKEM768_CIPHERTEXT_BYTES + X25519_KEY_BYTES;

function combine(ctx: KexContext, kPq: Uint8Array, kCl: Uint8Array): Uint8Array {
  const both = concat(kPq, kCl);
  try {
    return ctx.crypto.hash('sha256', both);
  } finally {
    wipe(both, kPq, kCl);
  }
}

const reason = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

export const mlkem768x25519Sha256: KexMethod = {
  name: 'mlkem768x25519-sha256',
  hash: 'sha256',
  valueEncoding: 'string',
  secretEncoding: 'string',

  clientStart(ctx) {
    const seed = ctx.random(MLKEM_SEED_BYTES);
    const { publicKey: ek, secretKey: dk } = ml_kem768.keygen(seed);
    wipe(seed);
    const x = x25519KeyPair(ctx);
    const finish = (serverValue: Uint8Array): Uint8Array => {
      if (serverValue.length !== MLKEM768X25519_SERVER_VALUE_BYTES) {
        throw kexError(`server S_REPLY is ${serverValue.length} bytes, expected ${MLKEM768X25519_SERVER_VALUE_BYTES}`);
      }
      const ct = serverValue.subarray(0, MLKEM768_CIPHERTEXT_BYTES);
      const serverX25519 = serverValue.subarray(MLKEM768_CIPHERTEXT_BYTES);
      let kPq: Uint8Array;
      try {
        kPq = ml_kem768.decapsulate(ct, dk);
      } catch (cause) {
        throw kexError(`ML-KEM-768 decapsulation failed: ${reason(cause)}`);
      }
      let kCl: Uint8Array;
      try {
        kCl = x25519Agree(ctx, x.privateKey, serverX25519, 'server');
      } catch (err) {
        wipe(kPq);
        throw err;
      }
      return combine(ctx, kPq, kCl);
    };
    return clientState(concat(ek, x.publicKey), finish, [dk, x.privateKey]);
  },

  serverRespond(ctx, clientValue): KexServerResult {
    if (clientValue.length !== MLKEM768X25519_CLIENT_VALUE_BYTES) {
      throw kexError(`client C_INIT is ${clientValue.length} bytes, expected ${MLKEM768X25519_CLIENT_VALUE_BYTES}`);
    }
    const ek = clientValue.subarray(0, MLKEM768_PUBLIC_KEY_BYTES);
    const clientX25519 = clientValue.subarray(MLKEM768_PUBLIC_KEY_BYTES);
    const m = ctx.random(MLKEM_MESSAGE_BYTES);
    let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      // noble performs the FIPS 203 section 7.2 modulus check on ek and throws if it fails.
      encapsulated = ml_kem768.encapsulate(ek, m);
    } catch (cause) {
      throw kexError(`client ML-KEM-768 encapsulation key rejected: ${reason(cause)}`);
    } finally {
      wipe(m);
    }
    const x = x25519KeyPair(ctx);
    let kCl: Uint8Array;
    try {
      kCl = x25519Agree(ctx, x.privateKey, clientX25519, 'client');
    } catch (err) {
      wipe(encapsulated.sharedSecret);
      throw err;
    } finally {
      wipe(x.privateKey);
    }
    return {
      serverValue: concat(encapsulated.cipherText, x.publicKey),
      secret: combine(ctx, encapsulated.sharedSecret, kCl),
    };
  },
};
