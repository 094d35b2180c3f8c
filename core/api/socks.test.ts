/**
 * The SOCKS 4/4a/5 server handshake: requests of every address type, refusals with their exact
 * reply bytes, chunking invariance and garbage as properties, and once against curl over a real
 * loopback socket (node:net is fine in a test file).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshUsageError } from '../errors.ts';
import { SOCKS_MAX_HANDSHAKE, SocksHandshake, formatIPv6, parseIPv4, parseIPv6, type SocksStep } from './socks.ts';

const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
const u8 = (...parts: Array<number | number[]>): Uint8Array => Uint8Array.from(parts.flat());
const list = (b: Uint8Array | undefined): number[] => [...(b ?? [])];

/** What the client sees and what the caller learns, independent of chunking. */
interface Transcript {
  written: number[];
  outcome: 'need-more' | 'connect' | 'fail';
  host?: string;
  port?: number;
  version?: 4 | 5;
  rest: number[];
}

/** Feed the chunks in order, as forwardDynamic does; after connect, later chunks count as `rest`. */
function run(chunks: Uint8Array[], answer: 'success' | number = 'success'): Transcript {
  const h = new SocksHandshake();
  const t: Transcript = { written: [], outcome: 'need-more', rest: [] };
  for (const chunk of chunks) {
    if (t.outcome === 'connect') {
      t.rest.push(...chunk);
      continue;
    }
    if (t.outcome === 'fail') break;
    const step = h.receive(chunk);
    if (step.kind === 'reply') t.written.push(...step.bytes);
    else if (step.kind === 'fail') {
      t.outcome = 'fail';
      t.written.push(...list(step.bytes));
    } else if (step.kind === 'connect') {
      Object.assign(t, { outcome: 'connect', host: step.host, port: step.port, version: step.version });
      t.rest.push(...step.rest);
      // A method selection not handed out yet comes first in this reply: only `written` as a whole is invariant.
      t.written.push(...(answer === 'success' ? h.success() : h.failure(answer as 1)));
    }
  }
  return t;
}

function connectStep(h: SocksHandshake, ...chunks: Uint8Array[]): Extract<SocksStep, { kind: 'connect' }> {
  let step: SocksStep = { kind: 'need-more' };
  for (const c of chunks) step = h.receive(c);
  if (step.kind !== 'connect') throw new Error(`expected connect, got ${JSON.stringify(step)}`);
  return step;
}

function failStep(chunks: Uint8Array[]): Extract<SocksStep, { kind: 'fail' }> {
  const h = new SocksHandshake();
  let step: SocksStep = { kind: 'need-more' };
  for (const c of chunks) {
    step = h.receive(c);
    if (step.kind === 'fail') return step;
  }
  throw new Error(`expected fail, got ${JSON.stringify(step)}`);
}

const GREETING = u8(5, 1, 0);
const socks5 = (atyp: number, addr: number[], port: number): Uint8Array => u8(5, 1, 0, atyp, addr, port >> 8, port & 0xff);
const socks4 = (ip: number[], port: number, user: string, host?: string): Uint8Array =>
  u8(4, 1, port >> 8, port & 0xff, ip, enc(user), 0, host === undefined ? [] : [...enc(host), 0]);
const REFUSED5 = (rep: number): number[] => [5, rep, 0, 1, 0, 0, 0, 0, 0, 0];
const REJECTED4 = [0, 0x5b, 0, 0, 0, 0, 0, 0];

describe('SOCKS5 (RFC 1928)', () => {
  it('IPv4 target: method selection, then connect, then the success reply', () => {
    const h = new SocksHandshake();
    expect(h.receive(u8(5, 2, 2, 0))).toEqual({ kind: 'reply', bytes: u8(5, 0) });
    expect(h.version).toBe(5);
    const step = connectStep(h, socks5(1, [10, 0, 0, 7], 8080));
    expect(step).toEqual({ kind: 'connect', host: '10.0.0.7', port: 8080, version: 5, addressType: 'ipv4', rest: u8() });
    expect(list(h.success())).toEqual([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('domain target', () => {
    const h = new SocksHandshake();
    h.receive(GREETING);
    const step = connectStep(h, socks5(3, [11, ...enc('example.org')], 443));
    expect([step.host, step.port, step.addressType]).toEqual(['example.org', 443, 'domain']);
    // A UTF-8 name is text too.
    const u = new SocksHandshake();
    u.receive(GREETING);
    const name = enc('bücher.example');
    expect(connectStep(u, socks5(3, [name.length, ...name], 80)).host).toBe('bücher.example');
  });

  it('IPv6 target, in the compressed form', () => {
    const cases: Array<[number[], string]> = [
      [[...new Array(15).fill(0), 1], '::1'],
      [[0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1], '2001:db8::1'],
      [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55], 'fe80::211:22ff:fe33:4455'],
      [[...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1], '::ffff:192.0.2.1'],
      [new Array(16).fill(0), '::'],
    ];
    for (const [addr, text] of cases) {
      const h = new SocksHandshake();
      h.receive(GREETING);
      const step = connectStep(h, socks5(4, addr, 22));
      expect([step.host, step.port, step.addressType]).toEqual([text, 22, 'ipv6']);
    }
  });

  it('bytes after the request are kept in rest, also when greeting and request come in one chunk', () => {
    const h = new SocksHandshake();
    h.receive(GREETING);
    expect(list(connectStep(h, u8(list(socks5(1, [127, 0, 0, 1], 80)), enc('GET / HTTP/1.0\r\n\r\n'))).rest)).toEqual(enc('GET / HTTP/1.0\r\n\r\n'));
    // Optimistic client: everything at once. The method selection not yet sent precedes the reply.
    const o = new SocksHandshake();
    const step = connectStep(o, u8(list(GREETING), list(socks5(3, [4, ...enc('echo')], 7)), enc('early')));
    expect([step.host, step.port, list(step.rest)]).toEqual(['echo', 7, enc('early')]);
    expect(list(o.success())).toEqual([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('reply encodings, byte for byte', () => {
    const answer = (f: (h: SocksHandshake) => Uint8Array): number[] => {
      const h = new SocksHandshake();
      connectStep(h, GREETING, socks5(1, [1, 2, 3, 4], 5));
      return list(f(h));
    };
    expect(answer((h) => h.success())).toEqual([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(answer((h) => h.success({ host: '192.0.2.9', port: 0x1234 }))).toEqual([5, 0, 0, 1, 192, 0, 2, 9, 0x12, 0x34]);
    expect(answer((h) => h.success({ host: '::1', port: 80 }))).toEqual([5, 0, 0, 4, ...new Array(15).fill(0), 1, 0, 80]);
    expect(answer((h) => h.success({ host: 'proxy', port: 1 }))).toEqual([5, 0, 0, 3, 5, ...enc('proxy'), 0, 1]);
    for (const code of [1, 2, 4, 5, 7, 8] as const) expect(answer((h) => h.failure(code))).toEqual(REFUSED5(code));
  });

  it('refuses a client that does not offer "no authentication" with 0xFF', () => {
    const f = failStep([u8(5, 2, 1, 2)]);
    expect(list(f.bytes)).toEqual([5, 0xff]);
    expect(f.reason).toMatch(/no acceptable authentication method.*0x01, 0x02/);
    expect(list(failStep([u8(5, 0)]).bytes)).toEqual([5, 0xff]);
  });

  it('refuses BIND and UDP ASSOCIATE (and unknown commands) with 0x07', () => {
    for (const [cmd, what] of [[2, /BIND/], [3, /UDP ASSOCIATE/], [9, /unknown command 0x09/]] as const) {
      const f = failStep([GREETING, u8(5, cmd, 0, 1, 1, 2, 3, 4, 0, 80)]);
      expect(list(f.bytes)).toEqual(REFUSED5(7));
      expect(f.reason).toMatch(what);
    }
    // Decided from the command byte, without waiting for the rest.
    expect(list(failStep([GREETING, u8(5, 2)]).bytes)).toEqual(REFUSED5(7));
  });

  it('refuses an unknown address type with 0x08', () => {
    const f = failStep([GREETING, u8(5, 1, 0, 2)]);
    expect(list(f.bytes)).toEqual(REFUSED5(8));
    expect(f.reason).toMatch(/address type 0x02/);
  });

  it('refuses port 0, empty or invalid names, a bad request version or reserved byte with 0x01', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [socks5(1, [1, 2, 3, 4], 0), /port 0/],
      [socks5(3, [4, ...enc('host')], 0), /port 0/],
      [u8(5, 1, 0, 3, 0), /domain name is empty/],
      [u8(5, 1, 0, 3, 2, 0xc3, 0x28, 0, 80), /not valid UTF-8/],
      [u8(5, 1, 0, 3, 3, 0x61, 0, 0x62, 0, 80), /control characters/],
      [u8(5, 1, 0, 3, 4, ...enc('a\nb'), 0, 0, 80), /control characters/],
      [u8(4, 1, 0, 1), /version 4, expected 5/],
      [u8(5, 1, 1, 1), /reserved byte/],
    ];
    for (const [request, reason] of cases) {
      const f = failStep([GREETING, request]);
      expect(list(f.bytes), String(reason)).toEqual(REFUSED5(1));
      expect(f.reason).toMatch(reason);
    }
  });
});

describe('SOCKS4 and 4a', () => {
  it('SOCKS4: IPv4 target, the user id is ignored, the 8-byte replies', () => {
    const h = new SocksHandshake();
    const step = connectStep(h, u8(list(socks4([192, 168, 1, 2], 22, 'alice')), 1, 2, 3));
    expect(step).toEqual({ kind: 'connect', host: '192.168.1.2', port: 22, version: 4, addressType: 'ipv4', rest: u8(1, 2, 3) });
    expect(list(h.success())).toEqual([0, 0x5a, 0, 0, 0, 0, 0, 0]);
    const b = new SocksHandshake();
    connectStep(b, socks4([1, 1, 1, 1], 1, ''));
    expect(list(b.success({ host: '10.1.2.3', port: 0x0102 }))).toEqual([0, 0x5a, 1, 2, 10, 1, 2, 3]);
    const c = new SocksHandshake();
    connectStep(c, socks4([1, 1, 1, 1], 1, ''));
    expect(list(c.failure(5))).toEqual(REJECTED4);
  });

  it('SOCKS4a: 0.0.0.x with x != 0 means a name follows the user id', () => {
    const h = new SocksHandshake();
    const step = connectStep(h, u8(list(socks4([0, 0, 0, 9], 80, 'me', 'example.net')), enc('GET')));
    expect([step.host, step.port, step.version, step.addressType, list(step.rest)]).toEqual(['example.net', 80, 4, 'domain', enc('GET')]);
    // 0.0.0.0 is an address, not the 4a marker.
    expect(connectStep(new SocksHandshake(), socks4([0, 0, 0, 0], 80, '')).host).toBe('0.0.0.0');
  });

  it('refuses BIND, unknown commands, port 0, long or empty fields with 0x5B', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [u8(4, 2, 0, 80, 1, 2, 3, 4, 0), /BIND/],
      [u8(4, 7), /unknown command 0x07/],
      [u8(4, 1, 0, 0, 1, 2, 3, 4, 0), /port 0/],
      [u8(4, 1, 0, 80, 1, 2, 3, 4, new Array(256).fill(0x41)), /user id is longer than 255 bytes/],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, new Array(256).fill(0x61)), /host name is longer than 255 bytes/],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, 0), /host name is empty/],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, 0xff, 0), /not valid UTF-8/],
    ];
    for (const [request, reason] of cases) {
      const f = failStep([request]);
      expect(list(f.bytes), String(reason)).toEqual(REJECTED4);
      expect(f.reason).toMatch(reason);
    }
    // 255 bytes of user id and of host name are fine.
    const long = 'a'.repeat(255);
    expect(connectStep(new SocksHandshake(), socks4([0, 0, 0, 1], 80, long, long)).host).toBe(long);
  });
});

describe('the handshake as a whole', () => {
  it('an unknown version byte fails without a reply', () => {
    for (const first of [0, 1, 3, 6, 0x16, 0xff]) {
      const f = failStep([u8(first, 1, 0)]);
      expect(f.bytes).toBeUndefined();
      expect(f.reason).toMatch(new RegExp(`first byte is 0x${first.toString(16).padStart(2, '0')}`));
    }
    expect(failStep([u8(enc('GET / HTTP/1.1\r\n'))]).reason).toMatch(/HTTP request sent to a SOCKS port/);
  });

  it('is bounded: a handshake longer than the limit fails, however it is fed', () => {
    expect(SOCKS_MAX_HANDSHAKE).toBe(1024);
    const request = u8(list(GREETING), list(socks5(3, [200, ...new Array(200).fill(0x61)], 80)));
    expect(run([request]).outcome).toBe('connect');
    for (const chunks of [[request], [...request].map((b) => u8(b))]) {
      const h = new SocksHandshake({ maxHandshakeBytes: 100 });
      let step: SocksStep = { kind: 'need-more' };
      for (const c of chunks) if ((step = h.receive(c)).kind === 'fail') break;
      expect(step.kind).toBe('fail');
      expect(step.kind === 'fail' && step.reason).toMatch(/longer than 100 bytes/);
      expect(step.kind === 'fail' && list(step.bytes)).toEqual([5, 0, ...REFUSED5(1)].slice(chunks.length === 1 ? 0 : 2));
    }
    // Exactly at the limit is fine; one byte over is not.
    const exact = new SocksHandshake({ maxHandshakeBytes: request.length });
    expect(exact.receive(request).kind).toBe('connect');
    expect(new SocksHandshake({ maxHandshakeBytes: request.length - 1 }).receive(request).kind).toBe('fail');
    expect(() => new SocksHandshake({ maxHandshakeBytes: 0 })).toThrow(SshUsageError);
  });

  it('after fail every call fails; after connect more input is refused; success/failure only once, after connect', () => {
    const f = new SocksHandshake();
    expect(f.receive(u8(9)).kind).toBe('fail');
    expect(f.receive(GREETING)).toEqual({ kind: 'fail', reason: expect.stringMatching(/first byte is 0x09/) });
    expect(() => f.success()).toThrow(SshUsageError);
    const h = new SocksHandshake();
    expect(() => h.success()).toThrow(SshUsageError);
    connectStep(h, GREETING, socks5(1, [1, 2, 3, 4], 5));
    expect(h.receive(u8(1)).kind).toBe('fail');
    expect(() => h.failure(0 as 1)).toThrow(SshUsageError);
    h.failure(4);
    expect(() => h.success()).toThrow(SshUsageError);
  });

  it('does not keep a reference to the caller’s buffer', () => {
    const h = new SocksHandshake();
    const chunk = u8(5, 1, 0, 5, 1, 0, 3, 4, ...enc('ab'));
    expect(h.receive(chunk).kind).toBe('reply');
    chunk.fill(0);
    const step = connectStep(h, u8(enc('cd'), 0, 80));
    expect(step.host).toBe('abcd');
  });
});

describe('IPv6 text forms', () => {
  it('formats like the WHATWG URL serializer (RFC 5952 compression) and parses back', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
        const b = new Uint8Array(16);
        groups.forEach((g, i) => ((b[2 * i] = g >> 8), (b[2 * i + 1] = g & 0xff)));
        const text = formatIPv6(b);
        expect(list(parseIPv6(text)!)).toEqual(list(b));
        const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
        if (!mapped) expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 500 },
    );
  });

  it('parses literals and rejects non-literals', () => {
    expect(list(parseIPv6('::ffff:127.0.0.1')!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(list(parseIPv6('fe80::1%eth0')!)).toEqual([0xfe, 0x80, ...new Array(13).fill(0), 1]);
    for (const bad of ['', '1::2::3', ':1::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1.2.3.4', '::1.2.3']) expect(parseIPv6(bad), bad).toBeNull();
    expect(list(parseIPv4('255.0.10.1')!)).toEqual([255, 0, 10, 1]);
    for (const bad of ['256.0.0.1', '1.2.3', 'a.b.c.d', ' 1.2.3.4']) expect(parseIPv4(bad), bad).toBeNull();
  });
});

/** Valid handshakes of every kind, with the target they name and trailing bytes. */
const validHandshake = fc
  .tuple(
    fc.oneof(
      fc.record({ v: fc.constant(5 as const), atyp: fc.constant(1), addr: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
      fc.record({ v: fc.constant(5 as const), atyp: fc.constant(4), addr: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
      fc.record({ v: fc.constant(5 as const), atyp: fc.constant(3), addr: fc.stringMatching(/^[a-z0-9.-]{1,255}$/) }),
      fc.record({ v: fc.constant(4 as const), atyp: fc.constant(1), addr: fc.uint8Array({ minLength: 4, maxLength: 4 }).filter((a) => !(a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] !== 0)) }),
      fc.record({ v: fc.constant(4 as const), atyp: fc.constant(3), addr: fc.stringMatching(/^[a-z0-9.-]{1,255}$/) }),
    ),
    fc.integer({ min: 1, max: 0xffff }),
    fc.stringMatching(/^[a-z]{0,20}$/),
    fc.uint8Array({ maxLength: 64 }),
    fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { maxLength: 5 }),
  )
  .map(([target, port, user, trailing, otherMethods]) => {
    let bytes: Uint8Array;
    let host: string;
    if (target.v === 5) {
      const addr = typeof target.addr === 'string' ? [target.addr.length, ...enc(target.addr)] : [...target.addr];
      const methods = [...otherMethods, 0];
      bytes = u8(5, methods.length, methods, list(socks5(target.atyp, addr, port)), [...trailing]);
      host = typeof target.addr === 'string' ? target.addr : target.atyp === 1 ? target.addr.join('.') : formatIPv6(target.addr);
    } else if (typeof target.addr === 'string') {
      bytes = u8(list(socks4([0, 0, 0, 1], port, user, target.addr)), [...trailing]);
      host = target.addr;
    } else {
      bytes = u8(list(socks4([...target.addr], port, user)), [...trailing]);
      host = target.addr.join('.');
    }
    return { bytes, host, port, version: target.v, trailing: [...trailing] };
  });

/** Any split of the bytes into chunks, empty ones included. */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) (out.push(bytes.slice(at, p)), (at = p));
  out.push(bytes.slice(at));
  return out;
}

/** Valid handshakes with one byte changed or cut short: near misses of every kind. */
const mutated = fc.tuple(validHandshake, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([h, at, value, truncate]) => {
  const b = h.bytes.slice();
  if (b.length === 0) return b;
  if (truncate) return b.slice(0, at % b.length);
  b[at % b.length] = value;
  return b;
});

const anyInput = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.uint8Array({ maxLength: 600 }).map((b) => u8(5, list(b))),
  fc.uint8Array({ maxLength: 600 }).map((b) => u8(4, 1, list(b))),
  fc.uint8Array({ maxLength: 600 }).map((b) => u8(5, 1, 0, 5, list(b))),
  mutated,
);

describe('properties', () => {
  it('valid handshakes connect to the named target, with the trailing bytes as rest', () => {
    fc.assert(
      fc.property(validHandshake, (h) => {
        const t = run([h.bytes]);
        expect([t.outcome, t.host, t.port, t.version, t.rest]).toEqual(['connect', h.host, h.port, h.version, h.trailing]);
      }),
      { numRuns: 500 },
    );
  });

  it('any split of the input, byte by byte too, gives the same transcript as feeding it whole', () => {
    fc.assert(
      fc.property(fc.oneof(validHandshake.map((h) => h.bytes), anyInput), fc.array(fc.nat(), { maxLength: 12 }), fc.constantFrom<'success' | number>('success', 1, 5), (bytes, cuts, answer) => {
        const whole = run([bytes], answer);
        expect(run(splitAt(bytes, cuts), answer)).toEqual(whole);
        expect(run([...bytes].map((b) => u8(b)), answer)).toEqual(whole);
      }),
      { numRuns: 400 },
    );
  });

  it('random and mutated bytes never throw and end in need-more, reply, connect or fail', () => {
    fc.assert(
      fc.property(anyInput, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const h = new SocksHandshake();
        let last: SocksStep = { kind: 'need-more' };
        for (const chunk of splitAt(bytes, cuts)) {
          last = h.receive(chunk);
          expect(['need-more', 'reply', 'connect', 'fail']).toContain(last.kind);
          if (last.kind === 'connect') {
            expect(last.port).toBeGreaterThan(0);
            expect(last.host.length).toBeGreaterThan(0);
            break;
          }
          if (last.kind === 'fail') {
            expect(last.reason.length).toBeGreaterThan(0);
            // Once failed, it stays failed.
            expect(h.receive(u8(5, 1, 0)).kind).toBe('fail');
            break;
          }
        }
        if (last.kind === 'connect') expect(() => h.failure(1)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

// --- A real SOCKS client: curl over loopback -------------------------------------------------

const CURL = ['/usr/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));

interface Seen {
  host: string;
  port: number;
  version: 4 | 5;
}

describe.skipIf(!CURL)('against curl', () => {
  let server: Server;
  let port = 0;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      const handshake = new SocksHandshake();
      let connected = false;
      let request = '';
      const onRequestBytes = (bytes: Uint8Array): void => {
        request += new TextDecoder().decode(bytes);
        if (request.includes('\r\n\r\n')) socket.end('HTTP/1.0 200 OK\r\n\r\nhello');
      };
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
        if (connected) return onRequestBytes(bytes);
        const step = handshake.receive(bytes);
        if (step.kind === 'reply') socket.write(step.bytes);
        else if (step.kind === 'fail') socket.end(step.bytes ?? new Uint8Array(0));
        else if (step.kind === 'connect') {
          connected = true;
          seen.push({ host: step.host, port: step.port, version: step.version });
          socket.write(handshake.success());
          if (step.rest.length > 0) onRequestBytes(step.rest);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const curl = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const env = { ...process.env };
      for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY']) delete env[k];
      execFile(CURL!, ['-sS', '--max-time', '10', ...args], { env }, (error, stdout, stderr) => (error ? reject(new Error(`curl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
    });

  it.each([
    [['--socks5-hostname'], 'http://example.invalid/', { host: 'example.invalid', port: 80, version: 5 }],
    [['--socks4a'], 'http://example.invalid:8080/', { host: 'example.invalid', port: 8080, version: 4 }],
    [['--socks5'], 'http://127.0.0.1:1/', { host: '127.0.0.1', port: 1, version: 5 }],
    [['--socks5'], 'http://[::1]:1/', { host: '::1', port: 1, version: 5 }],
    [['--socks4'], 'http://127.0.0.1:65535/', { host: '127.0.0.1', port: 65535, version: 4 }],
  ] as const)('curl %s %s', async (flag, url, expected) => {
    const before = seen.length;
    const out = await curl([...flag, `127.0.0.1:${port}`, url]);
    expect(out).toBe('hello');
    expect(seen.slice(before)).toEqual([expected]);
  });
});
