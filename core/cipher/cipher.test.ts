import { describe, it, expect } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { SshUsageError } from '../errors.ts';
import { cipherInfo, constantTimeEqual, createNoneOpener, createNoneSealer, createOpener, createSealer, macInfo } from './index.ts';
import { describePacketProtection, keysFor, makePacket } from '../../fixtures/crypto/packet-suite.ts';
import { chachaPolyPacketVector } from '../../fixtures/crypto/packet-vectors.ts';
import { hex, toHex } from '../../fixtures/crypto/util.ts';

describePacketProtection(pureCrypto);

describe('chacha20-poly1305@openssh.com known packet', () => {
  it('matches the vector composed from the RFC 8439 primitives', () => {
    const v = chachaPolyPacketVector;
    const keys = { key: hex(v.key), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
    const wire = createSealer(pureCrypto, 'chacha20-poly1305@openssh.com', null, keys).seal(v.seq, hex(v.plain));
    expect(toHex(wire)).toBe(v.wire);
    const opener = createOpener(pureCrypto, 'chacha20-poly1305@openssh.com', null, keys);
    expect(opener.decryptLength(v.seq, wire.subarray(0, 4))).toBe(hex(v.plain).length - 4);
    expect(toHex(opener.open(v.seq, wire)!)).toBe(v.plain);
  });
});

describe('algorithm tables', () => {
  it('have the parameters the specs give', () => {
    expect(cipherInfo['chacha20-poly1305@openssh.com']).toEqual({ keyLength: 64, ivLength: 0, blockSize: 8, aead: true });
    expect(cipherInfo['aes256-gcm@openssh.com']).toEqual({ keyLength: 32, ivLength: 12, blockSize: 16, aead: true });
    expect(cipherInfo['aes192-ctr']).toEqual({ keyLength: 24, ivLength: 16, blockSize: 16, aead: false });
    expect(cipherInfo['none']?.blockSize).toBe(8);
    expect(macInfo['hmac-sha2-512-etm@openssh.com']).toEqual({ keyLength: 64, macLength: 64, etm: true, hash: 'sha512' });
    expect(macInfo['hmac-sha1']).toEqual({ keyLength: 20, macLength: 20, etm: false, hash: 'sha1' });
  });

  it('sealer shape per family', () => {
    const s = (c: string, m: string | null) => createSealer(pureCrypto, c, m, keysFor(c, m, 'shape'));
    const o = (c: string, m: string | null) => createOpener(pureCrypto, c, m, keysFor(c, m, 'shape'));
    expect([s('aes128-ctr', 'hmac-sha2-256').lengthExcludedFromPadding, o('aes128-ctr', 'hmac-sha2-256').lengthBytes]).toEqual([false, 16]);
    expect([s('aes128-ctr', 'hmac-sha2-256-etm@openssh.com').lengthExcludedFromPadding, o('aes128-ctr', 'hmac-sha2-256-etm@openssh.com').lengthBytes]).toEqual([true, 4]);
    expect([s('aes128-gcm@openssh.com', null).macLength, o('aes128-gcm@openssh.com', null).lengthBytes]).toEqual([16, 4]);
    expect([s('none', 'hmac-sha1').blockSize, o('none', 'hmac-sha1').lengthBytes]).toEqual([8, 4]);
    expect(s('none', null).macLength).toBe(0);
  });

  it('an AEAD cipher ignores the negotiated MAC', () => {
    const keys = keysFor('aes128-gcm@openssh.com', null, 'aead-mac');
    const pk = makePacket(Uint8Array.of(1, 2, 3), 16, true);
    const a = createSealer(pureCrypto, 'aes128-gcm@openssh.com', null, keys).seal(0, pk);
    const b = createSealer(pureCrypto, 'aes128-gcm@openssh.com', 'hmac-sha2-256', { ...keys, macKey: new Uint8Array(32) }).seal(0, pk);
    expect(toHex(a)).toBe(toHex(b));
  });

  it('refuses unknown names, a CTR cipher without a MAC and short keys', () => {
    const keys = { key: new Uint8Array(64), iv: new Uint8Array(16), macKey: new Uint8Array(64) };
    expect(() => createSealer(pureCrypto, 'arcfour', 'hmac-sha1', keys)).toThrow(SshUsageError);
    expect(() => createOpener(pureCrypto, 'aes128-ctr', 'hmac-md5', keys)).toThrow(SshUsageError);
    expect(() => createSealer(pureCrypto, 'aes128-ctr', null, keys)).toThrow(SshUsageError);
    expect(() => createSealer(pureCrypto, 'aes256-ctr', 'hmac-sha1', { ...keys, key: new Uint8Array(16) })).toThrow(SshUsageError);
    expect(() => createSealer(pureCrypto, 'aes128-ctr', 'hmac-sha2-512', { ...keys, macKey: new Uint8Array(32) })).toThrow(SshUsageError);
  });

  it('takes the leading bytes of over-long derived keys', () => {
    const keys = keysFor('aes128-ctr', 'hmac-sha2-256', 'long');
    const long = { key: new Uint8Array([...keys.key, 9, 9]), iv: new Uint8Array([...keys.iv, 9]), macKey: new Uint8Array([...keys.macKey, 9]) };
    const pk = makePacket(Uint8Array.of(5), 16, false);
    expect(toHex(createSealer(pureCrypto, 'aes128-ctr', 'hmac-sha2-256', long).seal(3, pk))).toBe(
      toHex(createSealer(pureCrypto, 'aes128-ctr', 'hmac-sha2-256', keys).seal(3, pk)),
    );
  });
});

describe('AES-GCM invocation counter', () => {
  it('wraps within the low 64 bits and leaves the fixed field alone (RFC 5647 7.1)', () => {
    const keys = { key: new Uint8Array(16).fill(1), iv: hex('01020304ffffffffffffffff'), macKey: new Uint8Array(0) };
    const sealer = createSealer(pureCrypto, 'aes128-gcm@openssh.com', null, keys);
    const pk = makePacket(Uint8Array.of(1), 16, true);
    sealer.seal(0, pk);
    const second = sealer.seal(1, pk);
    const fresh = createSealer(pureCrypto, 'aes128-gcm@openssh.com', null, { ...keys, iv: hex('010203040000000000000000') }).seal(9, pk);
    expect(toHex(second)).toBe(toHex(fresh));
  });
});

describe('none', () => {
  it('passes packets through unchanged, as copies', () => {
    const pk = makePacket(Uint8Array.of(20, 1), 8, false);
    const sealer = createNoneSealer();
    const wire = sealer.seal(0, pk);
    expect(toHex(wire)).toBe(toHex(pk));
    expect(wire).not.toBe(pk);
    const opener = createNoneOpener();
    expect(opener.decryptLength(0, wire)).toBe(pk.length - 4);
    expect(opener.decryptLength(0, wire.subarray(0, 3))).toBe(-1);
    const opened = opener.open(0, wire)!;
    expect(toHex(opened)).toBe(toHex(pk));
    expect(opened).not.toBe(wire);
    expect([sealer.blockSize, sealer.lengthExcludedFromPadding, opener.lengthBytes]).toEqual([8, false, 4]);
  });
});

describe('constantTimeEqual', () => {
  it('compares contents and lengths', () => {
    expect(constantTimeEqual(hex('0102'), hex('0102'))).toBe(true);
    expect(constantTimeEqual(hex('0102'), hex('0103'))).toBe(false);
    expect(constantTimeEqual(hex('0102'), hex('01'))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
