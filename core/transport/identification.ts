/**
 * Protocol version exchange, RFC 4253 section 4.2.
 *
 * The identification line is `SSH-protoversion-softwareversion SP comments CR LF`, at most 255
 * characters including CR LF. A server may send other lines first (RFC 4253 4.2); like OpenSSH we
 * accept a bare LF as terminator and bound both the length of each line and how many such lines
 * we tolerate. Only protocol version 2.0 (and 1.99, which announces 2.0 compatibility) is accepted.
 */
import { DisconnectReason, SshProtocolError } from '../errors.ts';

export const MAX_IDENTIFICATION_LINE = 255;
/** Bound on the pre-banner lines a server may send (OpenSSH allows a similar order of magnitude). */
export const MAX_PRE_BANNER_LINES = 1024;
export const MAX_PRE_BANNER_BYTES = 64 * 1024;

export interface PeerIdentification {
  /** The line without CR LF: exactly what goes into the exchange hash as V_C / V_S. */
  readonly line: string;
  readonly protoVersion: string;
  readonly softwareVersion: string;
  readonly comments: string;
}

export type IdentificationResult =
  | { readonly done: false }
  | { readonly done: true; readonly identification: PeerIdentification; readonly consumed: number };

function invalid(message: string): SshProtocolError {
  return new SshProtocolError('IDENTIFICATION_INVALID', DisconnectReason.PROTOCOL_ERROR, message);
}

/**
 * Scan `buffer` for the peer's identification line. `allowPreBanner` is true on the client (only a
 * server may send other lines first). Returns how many bytes the identification consumed.
 */
export function parseIdentification(buffer: Uint8Array, allowPreBanner: boolean): IdentificationResult {
  let lineStart = 0;
  let lines = 0;
  for (;;) {
    const lf = buffer.indexOf(0x0a, lineStart);
    const limit = lineStart + MAX_IDENTIFICATION_LINE;
    if (lf < 0) {
      if (buffer.length > limit) throw invalid('identification line is longer than 255 bytes');
      if (buffer.length > MAX_PRE_BANNER_BYTES) throw invalid('too much data before the identification line');
      return { done: false };
    }
    if (lf + 1 > limit) throw invalid('identification line is longer than 255 bytes');
    let end = lf;
    if (end > lineStart && buffer[end - 1] === 0x0d) end--;
    const bytes = buffer.subarray(lineStart, end);
    const isSsh = bytes.length >= 4 && bytes[0] === 0x53 && bytes[1] === 0x53 && bytes[2] === 0x48 && bytes[3] === 0x2d;
    if (isSsh) {
      for (const b of bytes) {
        if (b < 0x20 || b > 0x7e) throw invalid('identification line contains a non-printable character');
      }
      const line = String.fromCharCode(...bytes);
      return { done: true, identification: parseVersionLine(line), consumed: lf + 1 };
    }
    if (!allowPreBanner) throw invalid('the client sent data before its identification line');
    if (bytes.includes(0)) throw invalid('a line before the identification contains a NUL byte');
    lines++;
    if (lines > MAX_PRE_BANNER_LINES || lf + 1 > MAX_PRE_BANNER_BYTES) throw invalid('too many lines before the identification line');
    lineStart = lf + 1;
  }
}

function parseVersionLine(line: string): PeerIdentification {
  const match = /^SSH-([^-\s]+)-(\S+)(?: (.*))?$/.exec(line);
  if (!match) throw invalid(`malformed identification line: ${JSON.stringify(line.slice(0, 80))}`);
  const protoVersion = match[1]!;
  if (protoVersion !== '2.0' && protoVersion !== '1.99') {
    throw new SshProtocolError(
      'VERSION_MISMATCH',
      DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED,
      `peer speaks SSH protocol ${protoVersion}; only 2.0 is supported`,
    );
  }
  return { line, protoVersion, softwareVersion: match[2]!, comments: match[3] ?? '' };
}

export function formatIdentification(softwareVersion: string, comments?: string): string {
  const line = `SSH-2.0-${softwareVersion}${comments ? ` ${comments}` : ''}`;
  if (line.length + 2 > MAX_IDENTIFICATION_LINE || /[^\x21-\x7e ]/.test(line) || /\s/.test(softwareVersion)) {
    throw new RangeError('identification must be printable ASCII, software version without spaces, at most 253 characters');
  }
  return line;
}
