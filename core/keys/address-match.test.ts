import { describe, expect, it } from 'vitest';
import {
  addressInCidr,
  addressMatchesCidrList,
  isValidCidrList,
  matchWildcardPattern,
  parseCidr,
  parseCidrList,
  parseIpAddress,
  unmapIpv4,
} from './address-match.ts';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('parseIpAddress', () => {
  it('reads dotted quads', () => {
    expect(parseIpAddress('192.0.2.1')).toEqual({ family: 4, bytes: bytes(192, 0, 2, 1) });
    expect(parseIpAddress('0.0.0.0')).toEqual({ family: 4, bytes: bytes(0, 0, 0, 0) });
    expect(parseIpAddress('255.255.255.255')).toEqual({ family: 4, bytes: bytes(255, 255, 255, 255) });
  });

  it('reads IPv6 in full, compressed and with a trailing dotted quad (RFC 4291 section 2.2)', () => {
    const v6 = (text: string) => Array.from(parseIpAddress(text)?.bytes ?? []);
    expect(v6('2001:db8:0:0:0:0:0:1')).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(v6('2001:DB8::1')).toEqual(v6('2001:db8:0:0:0:0:0:1'));
    expect(v6('::')).toEqual(new Array(16).fill(0));
    expect(v6('::1')).toEqual([...new Array(15).fill(0), 1]);
    expect(v6('1::')).toEqual([0, 1, ...new Array(14).fill(0)]);
    expect(v6('1:2:3:4:5:6:7::')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
    expect(v6('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    expect(v6('64:ff9b::192.0.2.1')).toEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1]);
    expect(v6('1:2:3:4:5:6:1.2.3.4')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '010.0.0.1', // octal to inet_aton: refused rather than misread
    '1.2.3.04',
    '0x0a.0.0.1',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4:22',
    '-1.2.3.4',
    'localhost',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8', // "::" must stand for at least one group
    '1::2::3',
    ':::',
    ':1:2:3:4:5:6:7',
    '12345::',
    'g::1',
    '::1.2.3',
    '1.2.3.4::',
    '::1.2.3.4:1',
    'fe80::1%eth0',
    '[::1]',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeNull();
  });

  it('returns null for values that are not strings', () => {
    expect(parseIpAddress(undefined as unknown as string)).toBeNull();
    expect(parseIpAddress(42 as unknown as string)).toBeNull();
  });

  it('unmaps IPv4-mapped addresses only', () => {
    expect(unmapIpv4(parseIpAddress('::ffff:10.1.2.3')!)).toEqual({ family: 4, bytes: bytes(10, 1, 2, 3) });
    expect(unmapIpv4(parseIpAddress('::ffff:a01:203')!)).toEqual({ family: 4, bytes: bytes(10, 1, 2, 3) });
    // IPv4-compatible (deprecated) and NAT64 addresses are not mapped addresses.
    expect(unmapIpv4(parseIpAddress('::10.1.2.3')!).family).toBe(6);
    expect(unmapIpv4(parseIpAddress('64:ff9b::10.1.2.3')!).family).toBe(6);
    expect(unmapIpv4(parseIpAddress('10.1.2.3')!)).toEqual({ family: 4, bytes: bytes(10, 1, 2, 3) });
  });
});

describe('parseCidr', () => {
  it('defaults to a host prefix', () => {
    expect(parseCidr('192.168.1.1')).toEqual({ network: { family: 4, bytes: bytes(192, 168, 1, 1) }, prefixLength: 32 });
    expect(parseCidr('2001:db8::1')?.prefixLength).toBe(128);
  });

  it('accepts the extreme prefixes', () => {
    expect(parseCidr('0.0.0.0/0')?.prefixLength).toBe(0);
    expect(parseCidr('::/0')?.prefixLength).toBe(0);
    expect(parseCidr('10.0.0.1/32')?.prefixLength).toBe(32);
    expect(parseCidr('::1/128')?.prefixLength).toBe(128);
    expect(parseCidr('10.0.0.0/08')?.prefixLength).toBe(8);
    expect(parseCidr(`${'0000:'.repeat(7)}0000/000000128`)?.prefixLength).toBe(128); // 49 characters, the limit
  });

  it.each([
    '10.0.0.1/8', // host bits set: OpenSSH calls this an inconsistent mask
    '10.128.0.0/8',
    '2001:db8::1/32',
    '0.0.0.1/0',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8/8',
    '/8',
    '',
    '*',
    '!10.0.0.0/8',
    '10.0.0.0/8 ',
    '10.0.0.*',
    'example.com',
    `${'0000:'.repeat(7)}0000/0000000128`, // 50 characters: over OpenSSH's entry limit
  ])('refuses %j', (entry) => {
    expect(parseCidr(entry)).toBeNull();
  });
});

describe('addressMatchesCidrList', () => {
  const list = '10.0.0.0/8,192.168.1.1,2001:db8::/32';

  it('matches IPv4 networks and hosts', () => {
    expect(addressMatchesCidrList('10.0.0.0', list)).toBe(true);
    expect(addressMatchesCidrList('10.255.255.255', list)).toBe(true);
    expect(addressMatchesCidrList('11.0.0.0', list)).toBe(false);
    expect(addressMatchesCidrList('9.255.255.255', list)).toBe(false);
    expect(addressMatchesCidrList('192.168.1.1', list)).toBe(true);
    expect(addressMatchesCidrList('192.168.1.2', list)).toBe(false);
  });

  it('matches IPv6 networks', () => {
    expect(addressMatchesCidrList('2001:db8::1', list)).toBe(true);
    expect(addressMatchesCidrList('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', list)).toBe(true);
    expect(addressMatchesCidrList('2001:db9::1', list)).toBe(false);
    expect(addressMatchesCidrList('::1', list)).toBe(false);
  });

  it('handles prefixes that do not end on a byte', () => {
    expect(addressMatchesCidrList('10.127.255.255', '10.0.0.0/9')).toBe(true);
    expect(addressMatchesCidrList('10.128.0.0', '10.0.0.0/9')).toBe(false);
    expect(addressMatchesCidrList('192.0.2.7', '192.0.2.4/30')).toBe(true);
    expect(addressMatchesCidrList('192.0.2.8', '192.0.2.4/30')).toBe(false);
    expect(addressMatchesCidrList('2001:db8:7fff::1', '2001:db8::/33')).toBe(true);
    expect(addressMatchesCidrList('2001:db8:8000::1', '2001:db8::/33')).toBe(false);
    expect(addressMatchesCidrList('fe80::1', 'fe80::/10')).toBe(true);
    expect(addressMatchesCidrList('fec0::1', 'fe80::/10')).toBe(false);
  });

  it('/0 matches every address of its family and none of the other', () => {
    expect(addressMatchesCidrList('203.0.113.9', '0.0.0.0/0')).toBe(true);
    expect(addressMatchesCidrList('2001:db8::1', '0.0.0.0/0')).toBe(false);
    expect(addressMatchesCidrList('2001:db8::1', '::/0')).toBe(true);
    expect(addressMatchesCidrList('203.0.113.9', '::/0')).toBe(false);
  });

  it('/32 and /128 match exactly one address', () => {
    expect(addressMatchesCidrList('203.0.113.9', '203.0.113.9/32')).toBe(true);
    expect(addressMatchesCidrList('203.0.113.8', '203.0.113.9/32')).toBe(false);
    expect(addressMatchesCidrList('2001:db8::9', '2001:db8::9/128')).toBe(true);
    expect(addressMatchesCidrList('2001:db8::8', '2001:db8::9/128')).toBe(false);
  });

  it('compares an IPv4-mapped client address as IPv4, as sshd records the peer', () => {
    expect(addressMatchesCidrList('::ffff:10.1.2.3', list)).toBe(true);
    expect(addressMatchesCidrList('::ffff:11.1.2.3', list)).toBe(false);
    expect(addressMatchesCidrList('::ffff:10.1.2.3', '::/0')).toBe(false);
    // List entries are taken as written: a mapped entry is an IPv6 network.
    expect(addressMatchesCidrList('10.1.2.3', '::ffff:10.0.0.0/104')).toBe(false);
  });

  it('takes an array of entries', () => {
    expect(addressMatchesCidrList('10.1.2.3', ['192.0.2.0/24', '10.0.0.0/8'])).toBe(true);
    expect(addressMatchesCidrList('10.1.2.3', ['192.0.2.0/24'])).toBe(false);
    expect(addressMatchesCidrList('10.1.2.3', [])).toBe(false);
  });

  it.each([
    ['10.1.2.3', ''],
    ['10.1.2.3', ','],
    ['10.1.2.3', '10.0.0.0/8,'],
    ['10.1.2.3', ',10.0.0.0/8'],
    ['10.1.2.3', '10.0.0.0/8,,192.0.2.0/24'],
    ['10.1.2.3', '10.0.0.0/8,10.0.0.1/8'],
    ['10.1.2.3', '10.0.0.0/8,host.example'],
    ['10.1.2.3', '10.0.0.0/8, 192.0.2.0/24'],
    ['10.1.2.3', '10.0.0.0/8,!192.0.2.0/24'],
    ['10.1.2.3', ['10.0.0.0/8', '']],
  ] as const)('an invalid list matches nothing, even an address it names: %j in %j', (address, badList) => {
    expect(addressMatchesCidrList(address, badList)).toBe(false);
    expect(isValidCidrList(badList)).toBe(false);
    expect(parseCidrList(badList)).toBeNull();
  });

  it.each(['', 'not-an-address', 'fe80::1%eth0', '10.1.2.3/32', '010.1.2.3', '[::1]', '::ffff:10.1.2'])(
    'an unparsable client address %j matches nothing',
    (address) => {
      expect(addressMatchesCidrList(address, '0.0.0.0/0,::/0')).toBe(false);
    },
  );

  it('never throws, whatever it is given', () => {
    const junk: unknown[] = [undefined, null, 7, {}, [], ['x'], [7], '\u0000', '1'.repeat(100000)];
    for (const a of junk) {
      for (const l of junk) {
        expect(() => addressMatchesCidrList(a as string, l as string)).not.toThrow();
        expect(addressMatchesCidrList(a as string, l as string)).toBe(false);
      }
    }
  });

  it('addressInCidr refuses a family mismatch', () => {
    expect(addressInCidr(parseIpAddress('10.0.0.1')!, parseCidr('::/0')!)).toBe(false);
    expect(addressInCidr(parseIpAddress('::1')!, parseCidr('0.0.0.0/0')!)).toBe(false);
  });
});

describe('matchWildcardPattern', () => {
  it.each([
    ['host.example.net', '*.example.net', true],
    ['a.b.example.net', '*.example.net', true],
    ['example.net', '*.example.net', false],
    ['host.example.net.evil', '*.example.net', false],
    ['host.example', 'host.example', true],
    ['Host.example', 'host.example', false],
    ['web1.example', 'web?.example', true],
    ['web12.example', 'web?.example', false],
    ['', '*', true],
    ['', '', true],
    ['x', '', false],
    ['abc', 'a*c', true],
    ['abc', 'a*b*c', true],
    ['ac', 'a*b*c', false],
    ['aXbYc', 'a*b*c', true],
    ['abcabd', '*abd', true],
    ['anything', '**', true],
  ] as const)('%j against %j is %s', (text, pattern, expected) => {
    expect(matchWildcardPattern(text, pattern)).toBe(expected);
  });

  it('stays fast on patterns that make naive matchers backtrack exponentially', () => {
    const text = 'a'.repeat(20000);
    const start = performance.now();
    expect(matchWildcardPattern(text, '*a*a*a*a*a*a*a*a*b')).toBe(false);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
