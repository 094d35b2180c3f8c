/**
 * The key-exchange methods hermit-ssh implements, by their SSH_MSG_KEXINIT names (RFC 4253
 * section 7.1), and the default preference list.
 *
 * diffie-hellman-group-exchange-sha256 (RFC 4419) is in the default list but not in
 * {@link kexMethods}: its group arrives in a message of its own, so the engine runs the GEX
 * messages and builds the method for the agreed group with {@link dhMethodForGroup}.
 */
import type { HashName } from '../crypto/provider.ts';
import { curve25519Sha256, curve25519Sha256Libssh } from './curve25519.ts';
import { dhGroup14Sha256, dhGroup16Sha512, dhGroup18Sha512 } from './dh.ts';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521 } from './ecdh.ts';
import { mlkem768x25519Sha256 } from './mlkem.ts';
import type { KexMethod } from './types.ts';

export type { DhGroup, KexClientState, KexContext, KexMethod, KexServerResult } from './types.ts';
export { curve25519Sha256, curve25519Sha256Libssh, x25519Agree, x25519KeyPair, X25519_KEY_BYTES } from './curve25519.ts';
export { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521, ecPointBytes, validateEcPoint } from './ecdh.ts';
export {
  bitLength,
  chooseGexGroup,
  dhExponentBits,
  dhGroup14Sha256,
  dhGroup16Sha512,
  dhGroup18Sha512,
  dhMethodForGroup,
  gexGroups,
  modpGroup14,
  modpGroup15,
  modpGroup16,
  modpGroup17,
  modpGroup18,
  validateDhValue,
  validateGexGroup,
} from './dh.ts';
export {
  mlkem768x25519Sha256,
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  MLKEM768X25519_CLIENT_VALUE_BYTES,
  MLKEM768X25519_SERVER_VALUE_BYTES,
} from './mlkem.ts';

/** RFC 4419 group exchange with SHA-256 (RFC 4419 section 4.2). */
export const GEX_SHA256 = 'diffie-hellman-group-exchange-sha256';
/** The exchange hash of {@link GEX_SHA256}. */
export const GEX_SHA256_HASH: HashName = 'sha256';
/** Group-exchange method names the engine handles itself, with their exchange hash. */
export const gexHashes: ReadonlyMap<string, HashName> = new Map([[GEX_SHA256, GEX_SHA256_HASH]]);

const all: readonly KexMethod[] = [
  mlkem768x25519Sha256,
  curve25519Sha256,
  curve25519Sha256Libssh,
  ecdhSha2Nistp256,
  ecdhSha2Nistp384,
  ecdhSha2Nistp521,
  dhGroup16Sha512,
  dhGroup18Sha512,
  dhGroup14Sha256,
];

/** Every fixed-group method by name. */
export const kexMethods: ReadonlyMap<string, KexMethod> = new Map(all.map((m) => [m.name, m]));

/**
 * OpenSSH 9.x's default KexAlgorithms order, keeping only what we implement (the sntrup761
 * hybrids are left out). OpenSSH 9.9 put mlkem768x25519-sha256 after the sntrup761 pair, and
 * 10.x moved it first; with sntrup761 absent both orders reduce to this list. (OpenSSH 10.x also
 * keeps the finite-field methods, group exchange included, in its client default only; a server
 * wanting that behaviour filters them out of this list.)
 */
export const defaultKexAlgorithms: readonly string[] = Object.freeze([
  'mlkem768x25519-sha256',
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  GEX_SHA256,
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
  'diffie-hellman-group14-sha256',
]);
