import { describe, expect, it } from 'vitest';
import { SshProtocolError } from '../errors.ts';
import { SshWriter } from '../wire/writer.ts';
import { NegotiationError, decodeKexInit, encodeKexInit, guessWasRight, negotiate, type KexInit } from './kexinit.ts';
import { applyAlgorithmOption } from './algorithms.ts';

const base: KexInit = {
  cookie: new Uint8Array(16),
  kex: ['curve25519-sha256', 'ext-info-c'],
  hostKey: ['ssh-ed25519', 'rsa-sha2-512'],
  cipherC2S: ['chacha20-poly1305@openssh.com', 'aes128-ctr'],
  cipherS2C: ['aes128-ctr'],
  macC2S: ['hmac-sha2-256'],
  macS2C: ['hmac-sha2-512', 'hmac-sha2-256'],
  compressionC2S: ['none'],
  compressionS2C: ['none'],
  languagesC2S: [],
  languagesS2C: [],
  firstKexPacketFollows: false,
};
const aead = (c: string) => c.includes('poly1305') || c.includes('gcm');

describe('KEXINIT and negotiation (RFC 4253 7.1)', () => {
  it('round-trips', () => {
    expect(decodeKexInit(encodeKexInit(base))).toEqual(base);
  });

  it('picks the first client algorithm the server supports; AEAD makes the MAC implicit', () => {
    const server: KexInit = { ...base, kex: ['ecdh-sha2-nistp256', 'curve25519-sha256', 'ext-info-s'], hostKey: ['rsa-sha2-512'], macS2C: ['hmac-sha2-256'] };
    const n = negotiate(base, server, aead);
    expect(n).toMatchObject({ kex: 'curve25519-sha256', hostKey: 'rsa-sha2-512', cipherC2S: 'chacha20-poly1305@openssh.com', macC2S: null, macS2C: 'hmac-sha2-256' });
    expect(guessWasRight(base, server)).toBe(false);
    expect(guessWasRight(base, { ...server, kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'] })).toBe(true);
  });

  it('never negotiates a pseudo-algorithm and names both offers when nothing matches', () => {
    const server: KexInit = { ...base, kex: ['ext-info-c'] };
    expect(() => negotiate(base, server, aead)).toThrow(NegotiationError);
    const s2: KexInit = { ...base, cipherC2S: ['aes256-gcm@openssh.com'] };
    expect(() => negotiate(base, s2, aead)).toThrow(/client offers: chacha20-poly1305@openssh.com,aes128-ctr; server offers: aes256-gcm@openssh.com/);
  });

  it('rejects empty and malformed name-lists as protocol errors', () => {
    const bad = encodeKexInit({ ...base, cipherC2S: [] });
    expect(() => decodeKexInit(bad)).toThrow(SshProtocolError);
    const w = new SshWriter().byte(20).raw(new Uint8Array(16)).string('a,,b');
    expect(() => decodeKexInit(w.finish())).toThrow(SshProtocolError);
    expect(() => decodeKexInit(new Uint8Array([20, 1, 2]))).toThrow(SshProtocolError);
  });

  it('applies OpenSSH-style +, - and ^ modifiers and refuses unknown names', () => {
    expect(applyAlgorithmOption('mac', '+hmac-sha1')).toContain('hmac-sha1');
    expect(applyAlgorithmOption('cipher', '-aes*-ctr')).toEqual(['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']);
    expect(applyAlgorithmOption('cipher', '^aes256-ctr')[0]).toBe('aes256-ctr');
    expect(() => applyAlgorithmOption('cipher', '3des-cbc')).toThrow(/unsupported algorithm "3des-cbc"; supported: /);
  });
});
