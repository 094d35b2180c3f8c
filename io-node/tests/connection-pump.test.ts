/**
 * The pump over real loopback sockets: asynchronous decisions (reading pauses until they settle),
 * a rejected decision becoming the close reason, the single timer driving the engine's deadlines,
 * and write backpressure pausing reads until 'drain'.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshEngine, type PrivateKey, type SshEvent } from '../../core/index.ts';
import { ConnectionPump, dialTcp } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { generateHostKey } from '../trust/keys.ts';
import { serve, type RunningServer } from '../server-host/serve.ts';

let hostKey: PrivateKey;
let server: RunningServer;
const serverLog: string[] = [];

beforeAll(async () => {
  hostKey = generateHostKey('ed25519');
  server = await serve({ host: '127.0.0.1', port: 0, hostKeys: [hostKey], log: (l) => serverLog.push(l) });
});

afterAll(async () => {
  await server?.close();
});

function clientEngine(): SshEngine {
  return new SshEngine({ role: 'client', now: performance.now(), crypto: nodeCrypto, username: 'pump-test' });
}

describe('ConnectionPump', () => {
  it('pauses reading while an asynchronous decision is open and resumes with the answer', async () => {
    const socket = await dialTcp('127.0.0.1', server.port, 5000);
    const events: SshEvent['type'][] = [];
    let pausedDuringDecision: boolean | null = null;
    const pump = new ConnectionPump(clientEngine(), socket, {
      onDecision: (decision) =>
        new Promise((resolve) => {
          setTimeout(() => {
            pausedDuringDecision = socket.isPaused();
            expect(decision.kind === 'hostKey' && decision.fingerprint).toMatch(/^SHA256:/);
            resolve(decision.kind === 'hostKey' ? true : null);
          }, 50);
        }),
      onEvent: (event) => {
        events.push(event.type);
        if (event.type === 'authFailure') {
          expect(event.methods).toEqual(['publickey', 'password', 'keyboard-interactive']);
          pump.disconnect('done');
        }
      },
    });
    expect(await pump.closed).toBeNull();
    expect(pausedDuringDecision).toBe(true);
    expect(events).toEqual(expect.arrayContaining(['kexComplete', 'serviceAccepted', 'authFailure', 'closed']));
    expect(events.at(-1)).toBe('closed');
    expect(pump.engine.algorithms?.strictKex).toBe(true);
  });

  it('turns a rejected decision into a disconnect and reports that error', async () => {
    const socket = await dialTcp('127.0.0.1', server.port, 5000);
    const pump = new ConnectionPump(clientEngine(), socket, {
      onDecision: () => Promise.reject(new Error('host key not in the allow list')),
    });
    const reason = await pump.closed;
    expect(reason?.message).toBe('host key not in the allow list');
    expect(pump.engine.isClosed).toBe(true);
    // The server heard our DISCONNECT with the reason text.
    await expect.poll(() => serverLog.join('\n'), { timeout: 3000 }).toMatch(/closed: peer disconnected: BY_APPLICATION \(11\): host key not in the allow list/);
  });

  it('arms the timer from pollTimeout: the login grace deadline closes a stalled connection', async () => {
    const listener: Server = createServer();
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    const client = await dialTcp('127.0.0.1', port, 5000);
    const serverSocket = await accepted;
    const engine = new SshEngine({ role: 'server', now: performance.now(), crypto: nodeCrypto, hostKeys: [hostKey], loginGraceMs: 150 });
    const pump = new ConnectionPump(engine, serverSocket, { onDecision: () => false });
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(d));
    const ended = new Promise<void>((resolve) => client.once('end', resolve));
    // Identify, then stall: the server is past identification, so its goodbye is a real DISCONNECT.
    client.write('SSH-2.0-stalled_client\r\n');
    const started = performance.now();
    const reason = await pump.closed;
    await ended;
    const elapsed = performance.now() - started;
    client.destroy();
    listener.close();
    expect(reason?.message).toBe('login grace time exceeded');
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(2000);
    expect(Buffer.concat(received).toString('latin1')).toContain('login grace time exceeded');
  });

  it('stops reading while the socket refuses writes and resumes on drain', () => {
    class BackedUpSocket extends EventEmitter {
      paused = false;
      destroyed = false;
      writable = true;
      writableEnded = false;
      readonly writes: Uint8Array[] = [];
      setNoDelay(): this {
        return this;
      }
      write(bytes: Uint8Array): boolean {
        this.writes.push(bytes);
        return false;
      }
      pause(): this {
        this.paused = true;
        return this;
      }
      resume(): this {
        this.paused = false;
        return this;
      }
      isPaused(): boolean {
        return this.paused;
      }
      end(): this {
        this.writableEnded = true;
        return this;
      }
      destroy(): this {
        this.destroyed = true;
        return this;
      }
    }
    const socket = new BackedUpSocket();
    const pump = new ConnectionPump(clientEngine(), socket as unknown as Socket, { onDecision: () => true });
    // Identification and KEXINIT went out as one flush, and the full buffer paused reading.
    expect(socket.writes).toHaveLength(1);
    expect(new TextDecoder().decode(socket.writes[0]!.subarray(0, 8))).toBe('SSH-2.0-');
    expect(socket.paused).toBe(true);
    socket.emit('drain');
    expect(socket.paused).toBe(false);
    pump.disconnect('test over');
    expect(socket.writableEnded).toBe(true);
  });
});
