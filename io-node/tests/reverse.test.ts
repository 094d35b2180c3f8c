/**
 * RFC 8071 reverse direction: the SSH client listens, `hermit serve`'s server dials out to it
 * (RunningServer.handleConnection on an outgoing socket), and the client logs in over that TCP
 * connection and runs a real command.
 */
import { connect as dial } from 'node:net';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fingerprintSha256, publicKeysEqual, type Decision } from '../../core/index.ts';
import { connect, listenReverse, type SshClient } from '../streams/client.ts';
import { generateHostKey } from '../trust/keys.ts';
import { serve } from '../server-host/serve.ts';

describe('reverse direction (RFC 8071)', () => {
  it('the server calls the listening client, which logs in and runs a command', async () => {
    const hostKey = generateHostKey('ed25519');
    const userKey = generateHostKey('ed25519');
    const wrongHost = generateHostKey('ed25519');
    const log: string[] = [];
    const server = await serve({
      host: '127.0.0.1',
      port: 0,
      hostKeys: [hostKey],
      log: (l) => log.push(l),
      auth: {
        connection: () => ({
          decide: (d: Decision) => (d.kind === 'authMethods' ? [['publickey']] : d.kind === 'authPublicKey' ? publicKeysEqual(d.key, userKey.publicKey) : false),
        }),
      },
    });
    const connections: SshClient[] = [];
    const errors: string[] = [];
    let arrived!: () => void;
    const first = new Promise<void>((r) => (arrived = r));
    const listener = await listenReverse({
      username: userInfo().username,
      privateKeys: [userKey],
      hostKey: (d) => d.fingerprint === fingerprintSha256(hostKey.publicKey.blob),
      onConnection: (c) => (connections.push(c), arrived()),
      onError: (e) => errors.push(e.message),
    });
    const port = (listener.address as { port: number }).port;
    try {
      server.handleConnection(dial(port, '127.0.0.1'));
      await first;
      const r = await connections[0]!.run('echo reverse; exit 4');
      expect(r).toMatchObject({ stdout: 'reverse\n', exitStatus: 4 });
      await connections[0]!.close();
      // A server whose key the client does not trust is refused and reported, never used.
      const impostor = await serve({ host: '127.0.0.1', port: 0, hostKeys: [wrongHost] });
      impostor.handleConnection(dial(port, '127.0.0.1'));
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]).toMatch(/host key/i);
      expect(connections).toHaveLength(1);
      await impostor.close();
    } finally {
      await listener.close();
      await server.close();
    }
    expect(log.some((l) => /authenticated as/.test(l))).toBe(true);
  });

  it('sock: SSH over a socket the caller connected (a net.Socket is a Duplex)', async () => {
    const hostKey = generateHostKey('ed25519');
    const userKey = generateHostKey('ed25519');
    const server = await serve({
      host: '127.0.0.1',
      port: 0,
      hostKeys: [hostKey],
      auth: { connection: () => ({ decide: (d: Decision) => (d.kind === 'authMethods' ? [['publickey']] : d.kind === 'authPublicKey' ? publicKeysEqual(d.key, userKey.publicKey) : false) }) },
    });
    try {
      const socket = dial(server.port, '127.0.0.1');
      const conn = await connect({ host: 'given', sock: socket, username: userInfo().username, privateKeys: [userKey], hostKey: (d) => d.fingerprint === fingerprintSha256(hostKey.publicKey.blob) });
      expect((await conn.run('echo over sock')).stdout).toBe('over sock\n');
      await conn.close();
      // Our side of the socket is ended (the DISCONNECT went out first).
      expect(socket.writableEnded).toBe(true);
    } finally {
      await server.close();
    }
  });
});
