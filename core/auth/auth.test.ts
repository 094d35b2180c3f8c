import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { DisconnectReason, SshPeerDisconnectError, SshProtocolError, SshUsageError } from '../errors.ts';
import type { AuthHost } from './host.ts';
import type { DecisionBody, SshEvent } from '../events.ts';
import { generatePrivateKey, parseOpenSshPrivateKey, type PrivateKey } from '../keys/private-key.ts';
import { sign } from '../keys/signature.ts';
import { seededRandom } from '../random.ts';
import { Pair, type PairOptions } from '../testing/pair.ts';
import { ServerAuth } from './server.ts';
import { SshAuthenticationError } from './client.ts';

const hostKeys = [generatePrivateKey('ed25519', seededRandom('auth host'), pureCrypto)];
const fixture = (name: string) => parseOpenSshPrivateKey(readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8'))[0]!;
const userKeys: Record<string, PrivateKey> = {
  ed25519: fixture('ed25519'),
  'ecdsa-256': fixture('ecdsa-256'),
  'ecdsa-384': fixture('ecdsa-384'),
  'ecdsa-521': fixture('ecdsa-521'),
  rsa: fixture('rsa-2048'),
};

function run(options: Omit<PairOptions, 'server'> & { server?: PairOptions['server'] }) {
  const pair = new Pair({ ...options, client: { crypto: pureCrypto, username: 'alice', ...options.client }, server: { crypto: pureCrypto, hostKeys, ...options.server } });
  pair.pump();
  return pair;
}

const closedOf = (events: SshEvent[]) => {
  const closed = events.filter((e) => e.type === 'closed');
  expect(closed.length).toBeLessThanOrEqual(1);
  return closed[0]?.type === 'closed' ? closed[0].error : undefined;
};
const decisions = (events: SshEvent[]) => events.flatMap((e) => (e.type === 'decision' ? [e.decision] : []));

describe('client and server authentication in memory', () => {
  it('password: none first, then the password', () => {
    const pair = run({ serverChains: [['publickey'], ['password']], users: { alice: { password: 'pw' } }, clientPassword: 'pw' });
    expect(pair.clientEvents.find((e) => e.type === 'authSuccess')).toMatchObject({ method: 'password' });
    expect(pair.server.phase).toMatch(/\.connection$/);
    expect(decisions(pair.serverEvents).map((d) => d.kind)).toEqual(['authMethods', 'authPassword']);
  });

  for (const [name, key] of Object.entries(userKeys)) {
    it(`publickey ${name}: query, PK_OK, then a signature the server verified`, () => {
      const pair = run({ users: { alice: { keys: [key.publicKey] } }, clientKeys: [key], client: { clientAuth: { publicKeys: [{ key: key.publicKey }] } } });
      expect(pair.clientEvents.find((e) => e.type === 'authSuccess')).toMatchObject({ method: 'publickey' });
      const asked = decisions(pair.serverEvents).filter((d) => d.kind === 'authPublicKey');
      expect(asked.map((d) => d.kind === 'authPublicKey' && d.signed)).toEqual([false, true]);
      const signed = decisions(pair.clientEvents).find((d) => d.kind === 'sign');
      expect(signed?.kind === 'sign' && signed.algorithm).toBe(name === 'rsa' ? 'rsa-sha2-512' : key.publicKey.type);
    });
  }

  it('publicKeyAlgorithms restricts the signature (rsa-sha2-256 only)', () => {
    const key = userKeys.rsa!;
    const pair = run({ users: { alice: { keys: [key.publicKey] } }, clientKeys: [key], client: { clientAuth: { publicKeys: [{ key: key.publicKey }], publicKeyAlgorithms: ['rsa-sha2-256'] } } });
    expect(pair.clientEvents.some((e) => e.type === 'authSuccess')).toBe(true);
    expect(decisions(pair.serverEvents).find((d) => d.kind === 'authPublicKey')).toMatchObject({ algorithm: 'rsa-sha2-256' });
  });

  it('tries keys in order and skips the ones the server does not accept', () => {
    const pair = run({
      users: { alice: { keys: [userKeys['ecdsa-256']!.publicKey] } },
      clientKeys: Object.values(userKeys),
      client: { clientAuth: { publicKeys: [userKeys.ed25519!, userKeys['ecdsa-256']!].map((k) => ({ key: k.publicKey })) } },
    });
    expect(pair.clientEvents.some((e) => e.type === 'authSuccess')).toBe(true);
    expect(decisions(pair.clientEvents).filter((d) => d.kind === 'sign')).toHaveLength(1);
  });

  it('keyboard-interactive over several rounds', () => {
    const pair = run({
      client: { clientAuth: { methods: ['keyboard-interactive'] } },
      decide: (side, d) => {
        if (side === 'client' && d.kind === 'keyboardInteractive') return d.prompts.map((p) => (p.prompt.startsWith('Code') ? '123456' : 'pw'));
        if (side === 'server' && d.kind === 'authKeyboardInteractive') {
          if (d.round === 0) return { name: 'login', instruction: 'two steps', prompts: [{ prompt: 'Password: ', echo: false }] };
          if (d.round === 1) return d.responses?.[0] === 'pw' ? { prompts: [{ prompt: 'Code: ', echo: true }] } : false;
          return d.responses?.[0] === '123456';
        }
        return undefined;
      },
    });
    expect(pair.clientEvents.find((e) => e.type === 'authSuccess')).toMatchObject({ method: 'keyboard-interactive' });
    expect(decisions(pair.clientEvents).filter((d) => d.kind === 'keyboardInteractive').map((d) => d.kind === 'keyboardInteractive' && d.prompts[0]!.echo)).toEqual([false, true]);
  });

  it('method chains: publickey then keyboard-interactive, with partial success in between', () => {
    const key = userKeys.ed25519!;
    const pair = run({
      serverChains: [['publickey', 'keyboard-interactive']],
      users: { alice: { keys: [key.publicKey], password: 'pw' } },
      clientKeys: [key],
      clientPassword: 'pw',
      client: { clientAuth: { publicKeys: [{ key: key.publicKey }] } },
    });
    const failures = pair.clientEvents.filter((e) => e.type === 'authFailure');
    expect(failures.map((e) => e.type === 'authFailure' && [e.methods.join(), e.partialSuccess])).toEqual([['publickey', false], ['keyboard-interactive', true]]);
    expect(pair.serverEvents.find((e) => e.type === 'authSuccess')).toMatchObject({ method: 'publickey,keyboard-interactive' });
  });

  it('password change requested by the server', () => {
    const pair = run({
      clientPassword: 'old',
      decide: (side, d) => {
        if (side === 'client' && d.kind === 'passwordChange') return { oldPassword: 'old', newPassword: 'new' };
        if (side === 'server' && d.kind === 'authPassword') return d.newPassword === undefined ? { changePassword: 'Your password has expired.' } : d.password === 'old' && d.newPassword === 'new';
        return undefined;
      },
    });
    expect(pair.clientEvents.some((e) => e.type === 'authSuccess')).toBe(true);
    expect(decisions(pair.clientEvents).find((d) => d.kind === 'passwordChange')).toMatchObject({ prompt: 'Your password has expired.' });
  });

  it('banner events reach the client', () => {
    const pair = run({ server: { hostKeys, crypto: pureCrypto, banner: 'Authorized use only\n' }, users: { alice: { password: 'pw' } }, clientPassword: 'pw' });
    expect(pair.clientEvents.find((e) => e.type === 'banner')).toMatchObject({ message: 'Authorized use only\n' });
  });

  it('a failure names the methods tried and the methods the server allows', () => {
    const pair = run({ serverChains: [['publickey'], ['password']], clientPassword: 'nope' });
    const error = closedOf(pair.clientEvents);
    expect(error).toBeInstanceOf(SshAuthenticationError);
    expect(error?.message).toBe('authentication failed for alice: tried none,password; the server allows publickey,password');
    expect((closedOf(pair.serverEvents) as SshPeerDisconnectError).reason).toBe(DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE);
  });

  it('a wrong key is refused', () => {
    const pair = run({ users: { alice: { keys: [userKeys.rsa!.publicKey] } }, clientKeys: [userKeys.ed25519!], client: { clientAuth: { publicKeys: [{ key: userKeys.ed25519!.publicKey }] } } });
    expect(closedOf(pair.clientEvents)).toBeInstanceOf(SshAuthenticationError);
  });

  it('a signature over the wrong session id, or by another key, never reaches the embedder', () => {
    for (const forge of ['session', 'other-key'] as const) {
      const key = userKeys.ed25519!;
      const pair = run({
        users: { alice: { keys: [key.publicKey] } },
        client: { clientAuth: { publicKeys: [{ key: key.publicKey }] } },
        decide: (side, d) => {
          if (side !== 'client' || d.kind !== 'sign') return undefined;
          if (forge === 'other-key') return sign(pureCrypto, generatePrivateKey('ed25519', seededRandom('impostor'), pureCrypto), 'ssh-ed25519', d.data);
          const data = d.data.slice();
          data[10]! ^= 1; // inside the session id
          return sign(pureCrypto, key, d.algorithm, data);
        },
      });
      expect(closedOf(pair.clientEvents)).toBeInstanceOf(SshAuthenticationError);
      expect(decisions(pair.serverEvents).filter((d) => d.kind === 'authPublicKey' && d.signed)).toHaveLength(0);
    }
  });

  it('too many failed attempts: the server disconnects', () => {
    const pair = run({ server: { hostKeys, crypto: pureCrypto, maxAuthTries: 2 }, clientPassword: 'wrong', users: { alice: { password: 'pw' } }, client: { clientAuth: { methods: ['password'], passwordPrompts: 5 } } });
    expect((closedOf(pair.serverEvents) as SshProtocolError).code).toBe('LIMIT_EXCEEDED');
    expect((closedOf(pair.clientEvents) as SshPeerDisconnectError).reason).toBe(DisconnectReason.PROTOCOL_ERROR);
  });

  it('login grace time expires while the user dawdles at a prompt', () => {
    const pair = run({ server: { hostKeys, crypto: pureCrypto, loginGraceMs: 5000 }, serverChains: [['password']], decide: (side, d) => (side === 'client' && d.kind === 'password' ? 'defer' : undefined) });
    expect(pair.deferred).toHaveLength(1);
    pair.advance(5000);
    expect((closedOf(pair.serverEvents) as SshProtocolError).code).toBe('TIMEOUT');
  });

  it('decisions answered late and asynchronously still work; malformed answers are usage errors', () => {
    const pair = run({ serverChains: [['password']], clientPassword: 'pw', users: { alice: { password: 'pw' } }, decide: (side, d) => (side === 'server' && d.kind === 'authPassword' ? 'defer' : undefined) });
    const { decision } = pair.deferred[0]!;
    expect(() => pair.server.resolve(decision.id, 'yes please', pair.now)).toThrow(SshUsageError);
    pair.now += 30_000;
    pair.server.resolve(decision.id, true, pair.now);
    pair.pump();
    expect(pair.clientEvents.some((e) => e.type === 'authSuccess')).toBe(true);
  });
});

describe('the server-auth machine refuses server-only messages from a client', () => {
  const host = (): AuthHost & { sent: Uint8Array[]; asked: DecisionBody[] } => {
    const sent: Uint8Array[] = [];
    const asked: DecisionBody[] = [];
    return { crypto: pureCrypto, sessionId: () => new Uint8Array(32), serverSigAlgs: () => null, send: (p) => sent.push(p), emit: () => {}, ask: (d) => asked.push(d), succeeded: () => {}, setPolicy: () => {}, sent, asked };
  };
  for (const msg of [51, 52, 53, 60, 61, 79]) {
    it(`message ${msg} before any request is a protocol error`, () => {
      const auth = new ServerAuth(host(), { publicKeyAlgorithms: ['ssh-ed25519'] });
      expect(() => auth.handle(msg, new Uint8Array([msg]))).toThrow(SshProtocolError);
    });
  }
});

describe('a client cannot skip authentication', () => {
  // Reach into the client engine to send what a well-behaved client never would, encrypted and
  // in sequence like any other packet: the server's machines must refuse it.
  const inject = (pair: Pair, payload: Uint8Array) => (pair.client as unknown as { sendPacket(p: Uint8Array): void }).sendPacket(payload);

  for (const [what, payload] of [
    ['USERAUTH_SUCCESS sent by the client', new Uint8Array([52])],
    ['CHANNEL_OPEN before authentication', new Uint8Array([90, 0, 0, 0, 7, ...new TextEncoder().encode('session'), 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 128, 0])],
    ['GLOBAL_REQUEST before authentication', new Uint8Array([80, 0, 0, 0, 1, 120, 0])],
  ] as const) {
    it(`${what} is a protocol error`, () => {
      const pair = new Pair({ client: { crypto: pureCrypto, username: 'alice', clientAuth: { methods: ['password'] } }, server: { crypto: pureCrypto, hostKeys }, decide: (side, d) => (side === 'client' && d.kind === 'password' ? 'defer' : undefined) });
      pair.pump();
      expect(pair.server.phase).toMatch(/userauth$/);
      inject(pair, payload);
      pair.pump();
      const error = closedOf(pair.serverEvents) as SshProtocolError;
      expect(error.code).toBe('UNEXPECTED_MESSAGE');
      expect(error.reason).toBe(DisconnectReason.PROTOCOL_ERROR);
      // The client is still at its password prompt; the DISCONNECT waits in its input buffer.
      expect(pair.server.isClosed).toBe(true);
    });
  }
});
