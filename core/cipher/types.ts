/**
 * The packet-protection seam of the transport (RFC 4253 section 6): one sealer per outgoing and one
 * opener per incoming direction, keyed by the packet sequence number (RFC 4253 section 6.4). AEAD
 * ciphers (RFC 5647 as amended by OpenSSH PROTOCOL 1.6, PROTOCOL.chacha20poly1305), encrypt-then-MAC
 * (PROTOCOL 1.5) and the classic MAC-then-encrypt order all sit behind the same two interfaces, so
 * the framing code never branches on the algorithm.
 */
import type { HashName } from '../crypto/provider.ts';

export interface CipherInfo {
  /** Bytes of encryption key to derive (RFC 4253 section 7.2, key "C"/"D"). */
  readonly keyLength: number;
  /** Bytes of IV to derive (key "A"/"B"); 0 when the cipher takes none. */
  readonly ivLength: number;
  /** Padding alignment (RFC 4253 section 6: at least 8). */
  readonly blockSize: number;
  /** True when the cipher authenticates by itself and no MAC is negotiated. */
  readonly aead: boolean;
}

export interface MacInfo {
  /** Bytes of integrity key to derive (key "E"/"F"). */
  readonly keyLength: number;
  /** Bytes of MAC appended to each packet. */
  readonly macLength: number;
  /** Encrypt-then-MAC (OpenSSH PROTOCOL section 1.5). */
  readonly etm: boolean;
  readonly hash: HashName;
}

export interface PacketKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly macKey: Uint8Array;
}

export interface PacketSealer {
  /** Padding alignment. */
  readonly blockSize: number;
  /** True for AEAD and EtM: packet_length (not 4 + packet_length) must be a multiple of blockSize. */
  readonly lengthExcludedFromPadding: boolean;
  /** Bytes after the encrypted packet (tag or MAC). */
  readonly macLength: number;
  /**
   * plain = uint32 packet_length || byte padding_length || payload || padding.
   * Returns the wire bytes including the tag/MAC, in a new array.
   */
  seal(seq: number, plain: Uint8Array): Uint8Array;
}

export interface PacketOpener {
  readonly blockSize: number;
  readonly lengthExcludedFromPadding: boolean;
  readonly macLength: number;
  /** Leading wire bytes needed to learn packet_length: 4 for AEAD/EtM/none, blockSize for CTR with a classic MAC. */
  readonly lengthBytes: number;
  /**
   * packet_length from the first lengthBytes wire bytes (decrypts if needed and may keep state for
   * open()). Never throws; returns -1 if `head` is shorter than lengthBytes.
   */
  decryptLength(seq: number, head: Uint8Array): number;
  /**
   * wire = exactly 4 + packet_length + macLength bytes as received. Returns the plaintext packet
   * (uint32 packet_length || padding_length || payload || padding) in a new array, or null if the
   * MAC/tag does not verify (compared in constant time). Never throws.
   */
  open(seq: number, wire: Uint8Array): Uint8Array | null;
}

/**
 * An optional capability of a provider's AEAD (returned by `createAesGcm`): the same sealing and
 * opening, with the AAD written in front of the result. SSH's AES-GCM packet is exactly
 * length (the AAD) || ciphertext || tag, so a provider that can build that in one buffer saves the
 * packet code a second allocation and a copy per packet. Results must equal
 * aad || seal(...) and aad || open(...) byte for byte.
 */
export interface AeadWithAadPrefix {
  sealWithAad(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** aad || plaintext, or null when the tag does not verify. Never throws. */
  openWithAad(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
}
