import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';
import { seededRandom } from '../random.ts';
import { chooseGexGroup, defaultKexAlgorithms, dhMethodForGroup, GEX_SHA256, GEX_SHA256_HASH, gexHashes, kexMethods } from './index.ts';
import { context, coreProviders, hex } from './tests/helpers.ts';
import type { KexMethod } from './types.ts';

const providers = [...coreProviders, nodeCrypto];

describe('kex registry', () => {
  it('lists every fixed-group method under its own name with its hash', () => {
    expect(Object.fromEntries([...kexMethods].map(([name, m]) => [name, m.hash]))).toEqual({
      'mlkem768x25519-sha256': 'sha256',
      'curve25519-sha256': 'sha256',
      'curve25519-sha256@libssh.org': 'sha256',
      'ecdh-sha2-nistp256': 'sha256',
      'ecdh-sha2-nistp384': 'sha384',
      'ecdh-sha2-nistp521': 'sha512',
      'diffie-hellman-group14-sha256': 'sha256',
      'diffie-hellman-group16-sha512': 'sha512',
      'diffie-hellman-group18-sha512': 'sha512',
    });
    for (const [name, method] of kexMethods) expect(method.name).toBe(name);
  });

  it('names group exchange and its hash', () => {
    expect(GEX_SHA256).toBe('diffie-hellman-group-exchange-sha256');
    expect(GEX_SHA256_HASH).toBe('sha256');
    expect([...gexHashes]).toEqual([[GEX_SHA256, 'sha256']]);
    expect(kexMethods.has(GEX_SHA256)).toBe(false);
  });

  it("follows OpenSSH 9.x's default order, restricted to what we implement", () => {
    expect(defaultKexAlgorithms).toEqual([
      'mlkem768x25519-sha256',
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'ecdh-sha2-nistp256',
      'ecdh-sha2-nistp384',
      'ecdh-sha2-nistp521',
      'diffie-hellman-group-exchange-sha256',
      'diffie-hellman-group16-sha512',
      'diffie-hellman-group18-sha512',
      'diffie-hellman-group14-sha256',
    ]);
    expect(Object.isFrozen(defaultKexAlgorithms)).toBe(true);
  });

  it('can run every default algorithm: each is a fixed method or group exchange', () => {
    for (const name of defaultKexAlgorithms) expect(kexMethods.has(name) || gexHashes.has(name)).toBe(true);
    expect(defaultKexAlgorithms.length).toBe(kexMethods.size + gexHashes.size);
  });
});

/** Every method the engine can end up running, group exchange included (with the group a server would pick). */
function everyMethod(): KexMethod[] {
  const gexGroup = chooseGexGroup(2048, 3072, 8192);
  if (!gexGroup) throw new Error('no GEX group for 2048/3072/8192');
  return [...kexMethods.values(), dhMethodForGroup(gexGroup, GEX_SHA256_HASH, GEX_SHA256)];
}

describe.each(providers.map((p) => [p.name, p] as const))('every method on %s', (_name, crypto) => {
  it.each(everyMethod().map((m) => [m.name, m] as const))('%s: client and server derive the same K, reproducibly', (_method, method) => {
    const run = (seed: string) => {
      const client = method.clientStart(context(crypto, seededRandom(`${method.name}/${seed}/client`)));
      const server = method.serverRespond(context(crypto, seededRandom(`${method.name}/${seed}/server`)), client.clientValue);
      const k = client.finish(server.serverValue);
      expect(hex(k)).toBe(hex(server.secret));
      expect(k.length).toBeGreaterThan(0);
      return hex(k);
    };
    const first = run('1');
    expect(run('1')).toBe(first);
    expect(run('2')).not.toBe(first);
  });
});

describe('providers agree byte for byte', () => {
  it.each(everyMethod().map((m) => [m.name, m] as const))('%s: same seeds give the same values and K on every provider', (_method, method) => {
    const transcript = (crypto: (typeof providers)[number]) => {
      const client = method.clientStart(context(crypto, seededRandom(`${method.name}/cross/client`)));
      const server = method.serverRespond(context(crypto, seededRandom(`${method.name}/cross/server`)), client.clientValue);
      return [hex(client.clientValue), hex(server.serverValue), hex(server.secret), hex(client.finish(server.serverValue))];
    };
    const [first, ...rest] = providers.map(transcript);
    expect(providers.length).toBeGreaterThan(1);
    for (const other of rest) expect(other).toEqual(first);
  });
});
