/**
 * `hermit serve`: a TCP listener that gives every accepted socket its own server SshEngine. What a
 * connection may do is the engine's business (today: key exchange, EXT_INFO, and answering every
 * authentication request with the methods that can continue); this file only wires sockets up and
 * reports what happened.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SshEngine, type CryptoProvider, type PrivateKey } from '../core/index.ts';
import { ConnectionPump } from './connection-pump.ts';
import { nodeCrypto } from './crypto-node.ts';
import type { AlgorithmOptions } from './probe.ts';

export interface ServeOptions {
  readonly host: string;
  /** 0 picks a free port; {@link RunningServer.port} says which. */
  readonly port: number;
  readonly hostKeys: readonly PrivateKey[];
  readonly algorithms?: AlgorithmOptions;
  readonly crypto?: CryptoProvider;
  /** One line per connection event (accepted, negotiated, closed); default: nothing. */
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** Stop accepting, disconnect every open connection and wait until they are gone. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const crypto = options.crypto ?? nodeCrypto;
  // Built once up front so that a bad algorithm list or unusable host key fails the start, not each connection.
  const engineOptions = {
    role: 'server' as const,
    crypto,
    hostKeys: options.hostKeys,
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
  };
  new SshEngine({ ...engineOptions, now: performance.now() }).disconnect();

  const pumps = new Set<ConnectionPump>();
  const server = createServer((socket: Socket) => {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    let engine: SshEngine;
    try {
      engine = new SshEngine({ ...engineOptions, now: performance.now() });
    } catch (err) {
      log(`${peer}: refused: ${(err as Error).message}`);
      socket.destroy();
      return;
    }
    log(`${peer}: connected`);
    const pump = new ConnectionPump(engine, socket, {
      onDecision: (decision) => {
        // No credentials are configured yet: announce the usual methods and refuse every attempt.
        if (decision.kind === 'authMethods') return [['publickey'], ['password'], ['keyboard-interactive']];
        if (decision.kind.startsWith('auth')) return false;
        throw new Error(`no handler for ${decision.kind} decisions`);
      },
      onEvent: (event) => {
        if (event.type === 'kexComplete') {
          const a = event.algorithms;
          const mac = (m: string | null) => m ?? '<implicit>';
          log(`${peer}: ${event.initial ? 'kex' : 're-kex'} ${a.kex} host key ${a.hostKey} cipher ${a.cipherClientToServer}/${a.cipherServerToClient} MAC ${mac(a.macClientToServer)}/${mac(a.macServerToClient)}${a.strictKex ? ' strict' : ''}`);
        }
      },
    });
    pumps.add(pump);
    void pump.closed.then((reason) => {
      pumps.delete(pump);
      log(`${peer}: closed${reason ? `: ${reason.message}` : ''}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (err) => log(`listener: ${err.message}`));
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    host: address.address,
    port: address.port,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      const all = [...pumps];
      for (const pump of all) pump.disconnect('server shutting down');
      await Promise.all(all.map((p) => p.closed));
      await closing;
    },
  };
}
