/**
 * Typed errors of the engine.
 *
 * Two families, kept apart on purpose:
 * - {@link SshProtocolError}: "they broke it". Raised inside the engine when the peer's bytes violate
 *   RFC 4253 / 4252 / 4254; the engine never lets it escape an input method. It carries the SSH
 *   disconnect reason code (RFC 4250 section 4.2.2) that goes into the DISCONNECT we send.
 * - {@link SshUsageError}: "you broke it". Thrown synchronously from a command when the embedder
 *   misuses the API (wrong phase, unknown decision id, bad option).
 */

/** SSH_MSG_DISCONNECT reason codes, RFC 4250 section 4.2.2. */
export const DisconnectReason = {
  HOST_NOT_ALLOWED_TO_CONNECT: 1,
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  RESERVED: 4,
  MAC_ERROR: 5,
  COMPRESSION_ERROR: 6,
  SERVICE_NOT_AVAILABLE: 7,
  PROTOCOL_VERSION_NOT_SUPPORTED: 8,
  HOST_KEY_NOT_VERIFIABLE: 9,
  CONNECTION_LOST: 10,
  BY_APPLICATION: 11,
  TOO_MANY_CONNECTIONS: 12,
  AUTH_CANCELLED_BY_USER: 13,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
  ILLEGAL_USER_NAME: 15,
} as const;
export type DisconnectReasonCode = (typeof DisconnectReason)[keyof typeof DisconnectReason];

const reasonNames = new Map<number, string>(Object.entries(DisconnectReason).map(([k, v]) => [v, k]));
export function disconnectReasonName(code: number): string {
  return reasonNames.get(code) ?? `UNKNOWN_${code}`;
}

/** Machine-readable classification of why a connection ended. */
export type SshErrorCode =
  | 'PROTOCOL_ERROR'
  | 'VERSION_MISMATCH'
  | 'IDENTIFICATION_INVALID'
  | 'PACKET_INVALID'
  | 'MAC_INVALID'
  | 'NO_COMMON_ALGORITHM'
  | 'KEX_FAILED'
  | 'HOST_KEY_INVALID'
  | 'HOST_KEY_REJECTED'
  | 'SIGNATURE_INVALID'
  | 'UNEXPECTED_MESSAGE'
  | 'TIMEOUT'
  | 'PEER_DISCONNECTED'
  | 'CONNECTION_LOST'
  | 'LOCAL_DISCONNECT'
  | 'SERVICE_NOT_AVAILABLE'
  | 'LIMIT_EXCEEDED'
  | 'AUTH_FAILED';

export class SshError extends Error {
  readonly code: SshErrorCode;
  constructor(code: SshErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The peer violated the protocol; {@link reason} is what our DISCONNECT says. */
export class SshProtocolError extends SshError {
  readonly reason: DisconnectReasonCode;
  constructor(code: SshErrorCode, reason: DisconnectReasonCode, message: string) {
    super(code, message);
    this.reason = reason;
  }
}

/** The peer sent SSH_MSG_DISCONNECT, or the connection ended from their side. */
export class SshPeerDisconnectError extends SshError {
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string) {
    super('PEER_DISCONNECTED', `peer disconnected: ${disconnectReasonName(reason)} (${reason})${description ? `: ${description}` : ''}`);
    this.reason = reason;
    this.description = description;
  }
}

/** Local misuse of the API. Thrown from commands, never produced by peer input. */
export class SshUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshUsageError';
  }
}

/** Shorthand constructors for the errors raised most while decoding peer data. */
export const protocolError = (message: string): SshProtocolError =>
  new SshProtocolError('PROTOCOL_ERROR', DisconnectReason.PROTOCOL_ERROR, message);
export const kexError = (message: string): SshProtocolError =>
  new SshProtocolError('KEX_FAILED', DisconnectReason.KEY_EXCHANGE_FAILED, message);
