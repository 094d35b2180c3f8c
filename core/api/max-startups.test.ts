import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STARTUPS, MaxStartupsError, formatMaxStartups, parseMaxStartups, refusesStartup, unitInterval } from './max-startups.ts';

describe('MaxStartups', () => {
  it('parses N and begin:rate:full as sshd does', () => {
    expect(parseMaxStartups('10:30:100')).toEqual({ begin: 10, rate: 30, full: 100 });
    expect(parseMaxStartups('5')).toEqual({ begin: 5, rate: 100, full: 5 });
    expect(formatMaxStartups(parseMaxStartups('5'))).toBe('5');
    expect(formatMaxStartups(DEFAULT_MAX_STARTUPS)).toBe('10:30:100');
  });

  it('says what is wrong with a bad value', () => {
    expect(() => parseMaxStartups('ten')).toThrow(MaxStartupsError);
    expect(() => parseMaxStartups('ten')).toThrow(/not N or begin:rate:full/);
    expect(() => parseMaxStartups('0')).toThrow(/at least 1/);
    expect(() => parseMaxStartups('20:30:10')).toThrow(/begin <= full/);
    expect(() => parseMaxStartups('10:0:100')).toThrow(/percentage/);
    expect(() => parseMaxStartups('10:101:100')).toThrow(/percentage/);
    expect(() => parseMaxStartups('10:30')).toThrow(/not N or begin:rate:full/);
  });

  it('never refuses below begin, always at full, rate% at begin rising linearly', () => {
    const limit = DEFAULT_MAX_STARTUPS;
    expect(refusesStartup(limit, 9, () => 0)).toBe(false);
    expect(refusesStartup(limit, 100, () => 0.999)).toBe(true);
    expect(refusesStartup(limit, 250, () => 0.999)).toBe(true);
    // At begin: 30% refused — a draw below 0.30 refuses, one at 0.30 does not.
    expect(refusesStartup(limit, 10, () => 0.29)).toBe(true);
    expect(refusesStartup(limit, 10, () => 0.3)).toBe(false);
    // Halfway (55 of 10..100): 30 + 70/2 = 65%.
    expect(refusesStartup(limit, 55, () => 0.64)).toBe(true);
    expect(refusesStartup(limit, 55, () => 0.65)).toBe(false);
    // A single number refuses everything past it and nothing before.
    const hard = parseMaxStartups('3');
    expect(refusesStartup(hard, 2, () => 0.999)).toBe(false);
    expect(refusesStartup(hard, 3, () => 0)).toBe(true);
  });
});

describe('unitInterval', () => {
  it('maps 53 random bits into [0, 1)', () => {
    expect(unitInterval(() => new Uint8Array(7))).toBe(0);
    expect(unitInterval(() => new Uint8Array(7).fill(0xff))).toBe((2 ** 53 - 1) / 2 ** 53);
    expect(unitInterval(() => new Uint8Array([0x10, 0, 0, 0, 0, 0, 0]))).toBe(0.5);
  });
});
