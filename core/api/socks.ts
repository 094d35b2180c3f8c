/**
 * The server side of a SOCKS handshake (versions 4, 4a and 5) as pure state: bytes from the client
 * go in, bytes to write back and the requested target come out. No sockets, no clocks; the caller
 * (forwardDynamic, `ssh -D`) does the I/O and opens the direct-tcpip channel.
 *
 * SOCKS 5 — RFC 1928:
 * - section 3, method negotiation: `VER=5 NMETHODS METHODS…`, answered `VER METHOD`. Only
 *   X'00' (no authentication required) is accepted; when it is not offered the answer is X'FF'
 *   (no acceptable methods) and the handshake fails.
 * - section 4, requests: `VER CMD RSV ATYP DST.ADDR DST.PORT`. Only CONNECT (X'01'); BIND (X'02') and
 *   UDP ASSOCIATE (X'03') are answered REP X'07'. RSV must be X'00'.
 * - section 5, addressing: ATYP X'01' IPv4 (4 bytes), X'03' domain name (one length byte, then the
 *   name, no terminating NUL), X'04' IPv6 (16 bytes). Anything else is answered REP X'08'.
 * - section 6, replies: `VER REP RSV ATYP BND.ADDR BND.PORT`; see {@link SocksReply} for REP.
 *
 * SOCKS 4 (the "SOCKS: A protocol for TCP proxy across firewalls" description) and its 4A extension:
 * - request `VN=4 CD DSTPORT(2) DSTIP(4) USERID… NUL`; only CD=1 (CONNECT). The user id is read and
 *   ignored.
 * - 4A: a DSTIP of 0.0.0.x with x ≠ 0 means "the name follows": a NUL-terminated domain name comes
 *   after the user id's NUL.
 * - reply `VN=0 CD DSTPORT DSTIP`, 8 bytes; CD 90 (X'5A') granted, 91 (X'5B') rejected or failed.
 *
 * Limits, all on lengths the client controls: a user id or host name of at most 255 bytes, and at
 * most {@link SOCKS_MAX_HANDSHAKE} bytes (configurable) from the first byte to the end of the
 * request. Host names must be non-empty UTF-8 without control characters; port 0 is refused.
 *
 * {@link SocksHandshake.receive} never throws because of what the client sent: every malformed
 * input ends in a `fail` step with a reason (and, when the version is known, the refusal to write).
 * The result depends only on the bytes, not on how they were chunked: a client that sends its
 * SOCKS 5 request before reading the method selection gets the same bytes back, because a method
 * selection not yet handed out is put in front of the next reply (`fail`, `success`, `failure`).
 */
import { SshUsageError } from '../errors.ts';

/** The default bound on the handshake: bytes from the first one to the end of the request. */
export const SOCKS_MAX_HANDSHAKE = 1024;

/** The longest user id (SOCKS 4) or host name (SOCKS 4a), in bytes, without its NUL. */
export const SOCKS_MAX_FIELD = 255;

/** SOCKS 5 reply codes (RFC 1928 section 6, REP). SOCKS 4 knows only granted / rejected. */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** A failure code for {@link SocksHandshake.failure}: any REP but "succeeded". */
export type SocksFailureCode = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export type SocksVersion = 4 | 5;

/** How the client named the target. */
export type SocksAddressType = 'ipv4' | 'ipv6' | 'domain';

/** What to do after feeding bytes to {@link SocksHandshake.receive}. */
export type SocksStep =
  /** Nothing to do yet: keep reading. */
  | { readonly kind: 'need-more' }
  /** Write these bytes to the client (SOCKS 5 method selection) and keep reading. */
  | { readonly kind: 'reply'; readonly bytes: Uint8Array }
  /**
   * The request is complete: connect to host:port, then answer with `success()` or `failure(code)`.
   * `rest` holds bytes the client sent after the request; they belong to the connection.
   */
  | {
      readonly kind: 'connect';
      readonly host: string;
      readonly port: number;
      readonly version: SocksVersion;
      readonly addressType: SocksAddressType;
      readonly rest: Uint8Array;
    }
  /** Refused: write `bytes` when present, then close. */
  | { readonly kind: 'fail'; readonly reason: string; readonly bytes?: Uint8Array };

/** The address reported in a success reply (SOCKS 5 BND.ADDR / BND.PORT; SOCKS 4 DSTIP / DSTPORT). */
export interface SocksBoundAddress {
  /** An IPv4 or IPv6 literal, or (SOCKS 5 only) a domain name. */
  readonly host: string;
  readonly port: number;
}

export interface SocksHandshakeOptions {
  /** The bound on the handshake in bytes (default {@link SOCKS_MAX_HANDSHAKE}). */
  readonly maxHandshakeBytes?: number;
}

type Phase = 'start' | 'greeting' | 'request' | 'connect' | 'answered' | 'failed';

type Parsed =
  | { readonly t: 'need' }
  | { readonly t: 'fail'; readonly code: SocksFailureCode; readonly reason: string }
  | { readonly t: 'ok'; readonly end: number; readonly host: string; readonly port: number; readonly addressType: SocksAddressType };

const NEED: Parsed = { t: 'need' };
const NEED_MORE: SocksStep = { kind: 'need-more' };
const SOCKS4_GRANTED = 0x5a;
const SOCKS4_REJECTED = 0x5b;
const NO_AUTH = 0x00;
const NO_ACCEPTABLE = 0xff;

/**
 * One client's SOCKS handshake. Feed it with {@link receive} until a `connect` or `fail` step; after
 * `connect`, answer once with {@link success} or {@link failure}.
 */
export class SocksHandshake {
  private readonly limit: number;
  private phase: Phase = 'start';
  private ver: SocksVersion | undefined;
  /** Unconsumed bytes of the current message (copied; never the caller's buffer). */
  private buffer: Uint8Array = new Uint8Array(0);
  /** Bytes of the handshake consumed by earlier messages (the SOCKS 5 greeting). */
  private consumed = 0;
  /** The SOCKS 5 method selection when it was not handed out yet (greeting and request in one chunk). */
  private pending: Uint8Array | null = null;
  private failReason = '';

  constructor(options: SocksHandshakeOptions = {}) {
    const limit = options.maxHandshakeBytes ?? SOCKS_MAX_HANDSHAKE;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new SshUsageError(`maxHandshakeBytes must be a positive integer, not ${limit}`);
    this.limit = limit;
  }

  /** The version the client speaks, once its first byte arrived. */
  get version(): SocksVersion | undefined {
    return this.ver;
  }

  /**
   * Feed bytes from the client, in any chunking. After `fail` every call fails again (without
   * bytes); after `connect` further bytes are not part of the handshake and are refused the same way.
   */
  receive(bytes: Uint8Array): SocksStep {
    if (this.phase === 'failed') return { kind: 'fail', reason: this.failReason };
    if (this.phase === 'connect' || this.phase === 'answered') {
      return { kind: 'fail', reason: 'the SOCKS request is already complete; later bytes belong to the connection' };
    }
    const data = this.buffer.length === 0 ? bytes : concat(this.buffer, bytes);
    const step = this.advance(data);
    if (step.kind === 'need-more' || step.kind === 'reply') {
      // Keep what is left of the current message as a copy: never hold on to the caller's array.
      this.buffer = this.buffer.slice();
    } else {
      this.buffer = new Uint8Array(0);
    }
    return step;
  }

  /** The reply that grants the request (SOCKS 5 REP 0, SOCKS 4 CD 90); bound address 0.0.0.0:0 by default. */
  success(bound?: SocksBoundAddress): Uint8Array {
    this.answer('success');
    const reply = this.ver === 4 ? socks4Reply(SOCKS4_GRANTED, bound) : socks5Reply(SocksReply.succeeded, bound);
    return this.withPending(reply);
  }

  /** The reply that refuses the request: the SOCKS 5 REP code, or SOCKS 4 CD 91 whatever the code. */
  failure(code: SocksFailureCode): Uint8Array {
    if (!Number.isInteger(code) || code < 1 || code > 8) throw new SshUsageError(`SOCKS failure code must be 1 to 8, not ${code}`);
    this.answer('failure');
    return this.withPending(this.ver === 4 ? socks4Reply(SOCKS4_REJECTED) : socks5Reply(code));
  }

  private answer(what: string): void {
    if (this.phase !== 'connect') {
      throw new SshUsageError(`SocksHandshake.${what}() needs a complete request (a 'connect' step), and only once; the handshake is in phase '${this.phase}'`);
    }
    this.phase = 'answered';
  }

  private withPending(reply: Uint8Array): Uint8Array {
    const out = this.pending ? concat(this.pending, reply) : reply;
    this.pending = null;
    return out;
  }

  /** Parse as far as `data` goes; `data` is the whole unconsumed input of this call. */
  private advance(data: Uint8Array): SocksStep {
    this.buffer = data;
    if (this.phase === 'start') {
      if (data.length === 0) return NEED_MORE;
      const first = data[0]!;
      if (first === 4 || first === 5) {
        this.ver = first;
        this.phase = first === 5 ? 'greeting' : 'request';
      } else {
        return this.fail(unknownVersion(first));
      }
    }
    if (this.phase === 'greeting') {
      const allowance = this.limit - this.consumed;
      const view = data.subarray(0, allowance);
      const greeting = parseGreeting(view);
      if (greeting === 'need') return data.length > allowance ? this.fail(this.tooLong(), Uint8Array.of(5, NO_ACCEPTABLE)) : NEED_MORE;
      if (typeof greeting === 'string') return this.fail(greeting, Uint8Array.of(5, NO_ACCEPTABLE));
      this.consumed += greeting;
      this.buffer = data = data.subarray(greeting);
      this.pending = Uint8Array.of(5, NO_AUTH);
      this.phase = 'request';
    }
    // phase 'request'
    const allowance = this.limit - this.consumed;
    const view = data.subarray(0, Math.max(0, allowance));
    const parsed = this.ver === 5 ? parseSocks5Request(view) : parseSocks4Request(view);
    if (parsed.t === 'need') {
      if (data.length > allowance) return this.fail(this.tooLong(), this.refusal(SocksReply.generalFailure));
      if (this.pending) {
        const reply = this.pending;
        this.pending = null;
        return { kind: 'reply', bytes: reply };
      }
      return NEED_MORE;
    }
    if (parsed.t === 'fail') return this.fail(`SOCKS${this.ver}: ${parsed.reason}`, this.refusal(parsed.code));
    this.phase = 'connect';
    return { kind: 'connect', host: parsed.host, port: parsed.port, version: this.ver!, addressType: parsed.addressType, rest: data.slice(parsed.end) };
  }

  private tooLong(): string {
    return `SOCKS${this.ver}: the handshake is longer than ${this.limit} bytes`;
  }

  /** The refusal of a request in the client's version, after any method selection not yet sent. */
  private refusal(code: SocksFailureCode): Uint8Array {
    return this.withPending(this.ver === 4 ? socks4Reply(SOCKS4_REJECTED) : socks5Reply(code));
  }

  private fail(reason: string, bytes?: Uint8Array): SocksStep {
    this.phase = 'failed';
    this.failReason = reason;
    this.pending = null;
    return bytes ? { kind: 'fail', reason, bytes } : { kind: 'fail', reason };
  }
}

function unknownVersion(first: number): string {
  const printable = first >= 0x41 && first <= 0x5a;
  return `not a SOCKS 4 or 5 client: the first byte is 0x${hex(first)}${printable ? ` ('${String.fromCharCode(first)}': an HTTP request sent to a SOCKS port?)` : ''}`;
}

/** RFC 1928 section 3: the greeting's length when complete and acceptable, 'need', or why it is refused. */
function parseGreeting(b: Uint8Array): number | 'need' | string {
  if (b.length < 2) return 'need';
  const count = b[1]!;
  if (count === 0) return 'SOCKS5: the client offers no authentication method';
  if (b.length < 2 + count) return 'need';
  const methods = b.subarray(2, 2 + count);
  if (!methods.includes(NO_AUTH)) {
    return `SOCKS5: no acceptable authentication method (only "no authentication" is supported; offered ${[...methods].map((m) => `0x${hex(m)}`).join(', ')})`;
  }
  return 2 + count;
}

/** RFC 1928 sections 4 and 5, checked field by field as the bytes arrive. */
function parseSocks5Request(b: Uint8Array): Parsed {
  if (b.length < 1) return NEED;
  if (b[0] !== 5) return { t: 'fail', code: 1, reason: `the request has version ${b[0]}, expected 5` };
  if (b.length < 2) return NEED;
  const command = b[1]!;
  if (command === 2) return { t: 'fail', code: 7, reason: 'BIND is not supported (only CONNECT)' };
  if (command === 3) return { t: 'fail', code: 7, reason: 'UDP ASSOCIATE is not supported (only CONNECT)' };
  if (command !== 1) return { t: 'fail', code: 7, reason: `unknown command 0x${hex(command)} (only CONNECT is supported)` };
  if (b.length < 3) return NEED;
  if (b[2] !== 0) return { t: 'fail', code: 1, reason: `the reserved byte is 0x${hex(b[2]!)}, expected 0x00` };
  if (b.length < 4) return NEED;
  const atyp = b[3]!;
  let host: string;
  let addressType: SocksAddressType;
  let at: number;
  if (atyp === 0x01) {
    if (b.length < 8) return NEED;
    host = formatIPv4(b.subarray(4, 8));
    addressType = 'ipv4';
    at = 8;
  } else if (atyp === 0x04) {
    if (b.length < 20) return NEED;
    host = formatIPv6(b.subarray(4, 20));
    addressType = 'ipv6';
    at = 20;
  } else if (atyp === 0x03) {
    if (b.length < 5) return NEED;
    const length = b[4]!;
    if (length === 0) return { t: 'fail', code: 1, reason: 'the domain name is empty' };
    if (b.length < 5 + length) return NEED;
    const name = decodeHostName(b.subarray(5, 5 + length));
    if (name.error !== undefined) return { t: 'fail', code: 1, reason: name.error };
    host = name.host;
    addressType = 'domain';
    at = 5 + length;
  } else {
    return { t: 'fail', code: 8, reason: `address type 0x${hex(atyp)} is not supported (IPv4 0x01, domain 0x03, IPv6 0x04)` };
  }
  if (b.length < at + 2) return NEED;
  const port = (b[at]! << 8) | b[at + 1]!;
  if (port === 0) return { t: 'fail', code: 1, reason: `port 0 is not a destination (${host})` };
  return { t: 'ok', end: at + 2, host, port, addressType };
}

/** SOCKS 4 and 4A: `4 CD PORT(2) IP(4) USERID NUL [HOST NUL]`. The failure code is unused (CD 91). */
function parseSocks4Request(b: Uint8Array): Parsed {
  if (b.length < 2) return NEED;
  const command = b[1]!;
  if (command === 2) return { t: 'fail', code: 7, reason: 'BIND is not supported (only CONNECT)' };
  if (command !== 1) return { t: 'fail', code: 7, reason: `unknown command 0x${hex(command)} (only CONNECT is supported)` };
  if (b.length < 4) return NEED;
  const port = (b[2]! << 8) | b[3]!;
  if (port === 0) return { t: 'fail', code: 1, reason: 'port 0 is not a destination' };
  if (b.length < 8) return NEED;
  const ip = b.subarray(4, 8);
  const socks4a = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
  const userEnd = findNul(b, 8, 'the user id');
  if (typeof userEnd !== 'number') return userEnd;
  if (!socks4a) return { t: 'ok', end: userEnd + 1, host: formatIPv4(ip), port, addressType: 'ipv4' };
  const hostEnd = findNul(b, userEnd + 1, 'the host name');
  if (typeof hostEnd !== 'number') return hostEnd;
  if (hostEnd === userEnd + 1) return { t: 'fail', code: 1, reason: 'the SOCKS4a host name is empty' };
  const name = decodeHostName(b.subarray(userEnd + 1, hostEnd));
  if (name.error !== undefined) return { t: 'fail', code: 1, reason: name.error };
  return { t: 'ok', end: hostEnd + 1, host: name.host, port, addressType: 'domain' };
}

/** The index of the NUL ending a field that starts at `from`, at most {@link SOCKS_MAX_FIELD} bytes long. */
function findNul(b: Uint8Array, from: number, what: string): number | Parsed {
  const stop = Math.min(b.length, from + SOCKS_MAX_FIELD + 1);
  for (let i = from; i < stop; i++) if (b[i] === 0) return i;
  if (b.length > from + SOCKS_MAX_FIELD) return { t: 'fail', code: 1, reason: `${what} is longer than ${SOCKS_MAX_FIELD} bytes` };
  return NEED;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// C0 controls, DEL and C1 controls: nothing a host name may hold, and nothing to put in a log line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function decodeHostName(bytes: Uint8Array): { host: string; error?: undefined } | { host?: undefined; error: string } {
  let host: string;
  try {
    host = utf8.decode(bytes);
  } catch {
    return { error: 'the host name is not valid UTF-8' };
  }
  if (CONTROL.test(host)) return { error: 'the host name contains control characters' };
  return { host };
}

function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * An IPv6 address in its recommended text form (RFC 5952): lower-case hex without leading zeros,
 * the longest run of two or more zero groups (the first of equals) as `::`, and IPv4-mapped
 * addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(b: Uint8Array): string {
  if (b.length !== 16) throw new SshUsageError(`an IPv6 address has 16 bytes, not ${b.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIPv4(b.subarray(12))}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) (bestStart = i), (bestLength = j - i);
    i = j;
  }
  const text = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return text(groups);
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLength))}`;
}

/** Parse an IPv4 dotted quad; null when it is not one. */
export function parseIPv4(text: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
}

/** Parse an IPv6 literal (with `::`, an IPv4 tail, and a `%zone` that is dropped); null when it is not one. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes('.')) {
    const colon = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(colon + 1));
    if (colon < 0 || !v4) return null;
    s = `${s.slice(0, colon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const split = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = split(halves[0]!);
  const tail = halves.length === 2 ? split(halves[1]!) : [];
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const groups = [...head, ...new Array<string>(8 - count).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

function socks4Reply(code: number, bound?: SocksBoundAddress): Uint8Array {
  const out = new Uint8Array(8);
  out[1] = code;
  if (bound) {
    const port = checkPort(bound.port);
    out[2] = port >> 8;
    out[3] = port & 0xff;
    // SOCKS 4 has room for an IPv4 address only; anything else is reported as 0.0.0.0.
    const ip = parseIPv4(bound.host);
    if (ip) out.set(ip, 4);
  }
  return out;
}

function socks5Reply(code: number, bound?: SocksBoundAddress): Uint8Array {
  if (!bound) return Uint8Array.of(5, code, 0, 0x01, 0, 0, 0, 0, 0, 0);
  const port = checkPort(bound.port);
  let address: Uint8Array;
  const v4 = parseIPv4(bound.host);
  const v6 = v4 ? null : parseIPv6(bound.host);
  if (v4) address = concat(Uint8Array.of(0x01), v4);
  else if (v6) address = concat(Uint8Array.of(0x04), v6);
  else {
    const name = new TextEncoder().encode(bound.host);
    if (name.length < 1 || name.length > 255) throw new SshUsageError(`a SOCKS5 bound address name has 1 to 255 bytes, not ${name.length}`);
    address = concat(Uint8Array.of(0x03, name.length), name);
  }
  return concat(concat(Uint8Array.of(5, code, 0), address), Uint8Array.of(port >> 8, port & 0xff));
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new SshUsageError(`a port is 0 to 65535, not ${port}`);
  return port;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
