import { describe, expect, it } from 'vitest';
import {
  asciiLower,
  matchAddressList,
  matchFromPatternList,
  matchHostPatternList,
  matchPattern,
  matchPatternList,
  normaliseAddressText,
  parseFromNetwork,
  validateFromPatternList,
} from './host-patterns.ts';

describe('matchPattern (ssh_config(5) PATTERNS)', () => {
  it.each([
    ['host.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['a.b.example.com', '*.example.com', true],
    ['192.168.0.7', '192.168.0.?', true],
    ['192.168.0.17', '192.168.0.?', false],
    ['anything', '*', true],
    ['', '*', true],
    ['', '', true],
    ['x', '', false],
    ['abc', 'a*c', true],
    ['ac', 'a*c', true],
    ['abcd', 'a*c', false],
    ['[host]:2222', '[host]:2222', true],
    ['[host]:2222', '*', true],
    ['[h.example.com]:22', '[*.example.com]:22', true],
    ['a*b', 'a*b', true],
  ])('%j against %j is %s', (s, p, expected) => {
    expect(matchPattern(s, p)).toBe(expected);
  });

  it('stays fast on patterns built to backtrack', () => {
    const s = 'a'.repeat(5000);
    const p = '*a'.repeat(200) + 'b';
    expect(matchPattern(s, p)).toBe(false);
  });
});

describe('matchPatternList', () => {
  it('a negated match wins whatever the order', () => {
    expect(matchHostPatternList('dialup7.dialup.example.com', '!*.dialup.example.com,*.example.com')).toBe('negative');
    expect(matchHostPatternList('dialup7.dialup.example.com', '*.example.com,!*.dialup.example.com')).toBe('negative');
    expect(matchHostPatternList('www.example.com', '!*.dialup.example.com,*.example.com')).toBe('positive');
  });

  it('a negated pattern alone never matches (the ssh_config(5) host3 example)', () => {
    expect(matchHostPatternList('host3', '!host1,!host2')).toBe('none');
    expect(matchHostPatternList('host3', '!host1,!host2,*')).toBe('positive');
    expect(matchHostPatternList('host1', '!host1,!host2,*')).toBe('negative');
  });

  it('host names compare case-insensitively (ASCII), other lists case-sensitively', () => {
    expect(matchHostPatternList('Server.EXAMPLE.com', '*.example.COM')).toBe('positive');
    expect(matchPatternList('Server', 'server')).toBe('none');
    expect(matchPatternList('Server', 'server', { caseInsensitive: true })).toBe('positive');
    expect(asciiLower('ÄBC-xyz')).toBe('Äbc-xyz');
  });
});

describe('from= address matching', () => {
  it.each([
    ['192.0.2.10', '192.0.2.0/24', 'positive'],
    ['192.0.3.10', '192.0.2.0/24', 'none'],
    ['192.0.2.66', '192.0.2.0/24,!192.0.2.66', 'negative'],
    ['192.0.2.66', '!192.0.2.66,192.0.2.0/24', 'negative'],
    ['10.1.2.3', '10.1.2.3', 'positive'],
    ['10.1.2.4', '10.1.2.3', 'none'],
    ['2001:db8::5', '2001:db8::/32', 'positive'],
    ['2001:db9::5', '2001:db8::/32', 'none'],
    ['::ffff:192.0.2.10', '192.0.2.0/24', 'positive'],
    ['192.0.2.10', '::ffff:192.0.2.0/120', 'none'],
    ['fe80::1%eth0', 'fe80::/10', 'positive'],
    ['192.168.0.7', '192.168.0.?', 'positive'],
    ['::ffff:192.168.0.7', '192.168.0.*', 'positive'],
    ['0.0.0.1', '0.0.0.0/0', 'positive'],
    ['not-an-address', '*', 'none'],
  ])('%s against %s is %s', (addr, list, expected) => {
    expect(matchAddressList(addr, list)).toBe(expected);
  });

  it('classifies elements the way sshd does: networks, wildcards, and invalid networks', () => {
    expect(parseFromNetwork('192.0.2.0/24')).toMatchObject({ prefixLength: 24 });
    expect(parseFromNetwork('192.0.2.1')).toMatchObject({ prefixLength: 32 });
    expect(parseFromNetwork('*.example.com')).toBeNull();
    expect(parseFromNetwork('192.0.2.*')).toBeNull();
    expect(parseFromNetwork('192.0.2.0/x')).toBeNull();
    expect(parseFromNetwork('192.0.2.1/24')).toEqual({ error: expect.stringMatching(/bits set after the mask/) });
    expect(parseFromNetwork('192.0.2.0/33')).toEqual({ error: expect.stringMatching(/at most 32/) });
    expect(parseFromNetwork('2001:db8::/129')).toEqual({ error: expect.stringMatching(/at most 128/) });
  });

  it('an invalid element makes the whole list invalid', () => {
    expect(validateFromPatternList('192.0.2.0/24,*.example.com')).toBeNull();
    expect(validateFromPatternList('10.1.2.3/8')).toMatch(/10\.1\.2\.3\/8.*bits set/);
    expect(validateFromPatternList('a,,b')).toMatch(/empty pattern/);
    expect(validateFromPatternList('!')).toMatch(/empty pattern/);
    expect(matchAddressList('10.1.2.3', '10.0.0.0/8,10.1.2.3/8')).toEqual({ invalid: expect.any(String) });
  });

  it('normalises IPv4-mapped client addresses to dotted quads', () => {
    expect(normaliseAddressText('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseAddressText('::1')).toBe('::1');
    expect(normaliseAddressText('host.example')).toBe('host.example');
  });
});

describe('matchFromPatternList (sshd match_host_and_ip)', () => {
  const list = '!*.dialup.example.com,*.example.com,192.0.2.0/24,!192.0.2.66';

  it('accepts a matching host name or address', () => {
    expect(matchFromPatternList(list, { address: '198.51.100.1', hostname: 'www.example.com' })).toBe(true);
    expect(matchFromPatternList(list, { address: '192.0.2.10', hostname: 'unrelated.example.net' })).toBe(true);
  });

  it('refuses a negated host name or address even when the other matches', () => {
    expect(matchFromPatternList(list, { address: '192.0.2.10', hostname: 'ppp1.dialup.example.com' })).toBe(false);
    expect(matchFromPatternList(list, { address: '192.0.2.66', hostname: 'www.example.com' })).toBe(false);
  });

  it('refuses when nothing matches, and without an address', () => {
    expect(matchFromPatternList(list, { address: '198.51.100.1', hostname: 'www.example.net' })).toBe(false);
    expect(matchFromPatternList(list, { hostname: 'www.example.com' })).toBe(false);
    expect(matchFromPatternList(list, {})).toBe(false);
  });

  it('uses the address as the host name when there is none (UseDNS no)', () => {
    expect(matchFromPatternList('127.0.0.*', { address: '127.0.0.1' })).toBe(true);
    expect(matchFromPatternList('127.0.0.1,::1', { address: '::1' })).toBe(true);
    expect(matchFromPatternList('127.0.0.1,::1', { address: '::ffff:127.0.0.1' })).toBe(true);
    expect(matchFromPatternList('*.example.com', { address: '127.0.0.1' })).toBe(false);
  });

  it('an invalid list never matches', () => {
    expect(matchFromPatternList('10.1.2.3/8,*', { address: '10.1.2.3', hostname: 'x' })).toBe(false);
  });
});
