/**
 * Binary packet protocol, RFC 4253 section 6: `uint32 packet_length, byte padding_length, payload,
 * random padding, mac`. The cipher-specific part (what is encrypted, how the length is hidden, the
 * tag) sits behind core/cipher's PacketSealer / PacketOpener; this module owns framing, padding,
 * size limits, buffering of partial input and the sequence numbers (uint32, wrapping, RFC 4253 6.4).
 */
import { DisconnectReason, SshProtocolError } from '../errors.ts';
import type { RandomSource } from '../crypto/provider.ts';
import type { PacketOpener, PacketSealer } from '../cipher/types.ts';

/** Largest packet_length accepted (OpenSSH's limit; RFC 4253 6.1 asks for at least 35000). */
export const MAX_PACKET_LENGTH = 256 * 1024;
const MIN_PADDING = 4;

function packetError(message: string, reason: number = DisconnectReason.PROTOCOL_ERROR): SshProtocolError {
  return new SshProtocolError('PACKET_INVALID', reason as 2, message);
}

export class PacketEncoder {
  sequence = 0;
  constructor(
    private sealer: PacketSealer,
    private readonly random: RandomSource,
  ) {}

  setSealer(sealer: PacketSealer): void {
    this.sealer = sealer;
  }

  /** Frame and seal `payload` (followed by `tail`, when given: saves a copy for bulk data). */
  encode(payload: Uint8Array, tail?: Uint8Array): Uint8Array {
    const s = this.sealer;
    const block = Math.max(s.blockSize, 8);
    const payloadLength = payload.length + (tail ? tail.length : 0);
    const unpadded = (s.lengthExcludedFromPadding ? 0 : 4) + 1 + payloadLength;
    let padding = block - (unpadded % block);
    if (padding < MIN_PADDING) padding += block;
    const packetLength = 1 + payloadLength + padding;
    const plain = new Uint8Array(4 + packetLength);
    plain[0] = packetLength >>> 24;
    plain[1] = (packetLength >>> 16) & 0xff;
    plain[2] = (packetLength >>> 8) & 0xff;
    plain[3] = packetLength & 0xff;
    plain[4] = padding;
    plain.set(payload, 5);
    if (tail) plain.set(tail, 5 + payload.length);
    plain.set(this.random(padding), 5 + payloadLength);
    const wire = s.seal(this.sequence, plain);
    this.sequence = (this.sequence + 1) >>> 0;
    return wire;
  }
}

/**
 * Accumulates input and yields whole packets' payloads. The input buffer is compacted lazily so
 * that feeding many small chunks stays linear.
 */
export class PacketDecoder {
  sequence = 0;
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  /** packet_length of the packet whose head was already decrypted, or -1. */
  private pendingLength = -1;

  constructor(private opener: PacketOpener) {}

  setOpener(opener: PacketOpener): void {
    this.opener = opener;
    this.pendingLength = -1;
  }

  get buffered(): number {
    return this.end - this.start;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.end + data.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + data.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length;
        while (size < live + data.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** Take raw bytes (before any packet framing: the identification phase). */
  peekRaw(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  consumeRaw(n: number): void {
    this.start += n;
  }

  /**
   * The next packet's payload, or null if more input is needed. Throws SshProtocolError on a bad
   * length, bad padding or a MAC failure; after that the decoder must not be used again.
   */
  next(): Uint8Array | null {
    const o = this.opener;
    if (this.pendingLength < 0) {
      if (this.end - this.start < o.lengthBytes) return null;
      const length = o.decryptLength(this.sequence, this.buf.subarray(this.start, this.start + o.lengthBytes));
      if (length < 5 || length > MAX_PACKET_LENGTH) throw packetError(`bad packet length ${length}`);
      const aligned = o.lengthExcludedFromPadding ? length : length + 4;
      if (aligned % Math.max(o.blockSize, 8) !== 0) throw packetError(`packet length ${length} is not a multiple of the cipher block size`);
      this.pendingLength = length;
    }
    const total = 4 + this.pendingLength + o.macLength;
    if (this.end - this.start < total) return null;
    const wire = this.buf.subarray(this.start, this.start + total);
    let plain = o.open(this.sequence, wire);
    // Payloads outlive this call (events are pulled later), so they must not alias the input buffer.
    if (plain !== null && plain.buffer === this.buf.buffer) plain = plain.slice();
    if (plain === null) throw new SshProtocolError('MAC_INVALID', DisconnectReason.MAC_ERROR, 'message authentication code is incorrect');
    this.start += total;
    if (this.start === this.end) this.start = this.end = 0;
    const length = this.pendingLength;
    this.pendingLength = -1;
    this.sequence = (this.sequence + 1) >>> 0;
    const padding = plain[4]!;
    if (padding < MIN_PADDING || padding > length - 1) throw packetError(`bad padding length ${padding}`);
    return plain.subarray(5, 4 + length - padding);
  }
}
