import { describe, expect, it } from 'vitest';
import { parseIdentification } from './identification.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('identification (RFC 4253 4.2)', () => {
  it('accepts CRLF and bare LF, with comments', () => {
    const r = parseIdentification(enc('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest'), false);
    expect(r.done && r.identification.softwareVersion).toBe('OpenSSH_9.2p1');
    expect(r.done && r.identification.comments).toBe('Debian-2');
    expect(r.done && r.consumed).toBe(32);
    const lf = parseIdentification(enc('SSH-2.0-x\n'), false);
    expect(lf.done && lf.identification.line).toBe('SSH-2.0-x');
  });

  it('lets a server send other lines first, but not a client', () => {
    const r = parseIdentification(enc('hello\r\nbanner line\nSSH-1.99-old\r\n'), true);
    expect(r.done && r.identification.protoVersion).toBe('1.99');
    expect(() => parseIdentification(enc('hello\r\nSSH-2.0-x\r\n'), false)).toThrow(/before its identification/);
  });

  it('waits for more input, and bounds line length and count', () => {
    expect(parseIdentification(enc('SSH-2.0-ab'), false).done).toBe(false);
    expect(() => parseIdentification(enc('SSH-2.0-' + 'a'.repeat(300)), false)).toThrow(/255/);
    expect(() => parseIdentification(enc('x\n'.repeat(2000)), true)).toThrow(/too many lines/);
  });

  it('refuses other protocol versions with a clear error', () => {
    expect(() => parseIdentification(enc('SSH-1.5-old\r\n'), false)).toThrow(/only 2.0/);
    expect(() => parseIdentification(enc('SSH-2.0\r\n'), false)).toThrow(/malformed/);
  });
});
