/**
 * `hermit serve`: a TCP listener that gives every accepted socket its own server SshEngine. What a
 * connection may do is the engine's business (key exchange, EXT_INFO, user authentication); who may
 * log in is the `auth` policy's (io-node/server-host/server-auth.ts answers from authorized_keys, CA and
 * password files). This file only wires sockets up and reports what happened.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SshEngine, type CryptoProvider, type Decision, type PrivateKey } from '../../core/index.ts';
import { OpenFailure, systemRandom } from '../../core/index.ts';
import { createSessionHandler, serverAccount, type ServerConnectionContext, type SessionHandlerOptions } from './server-sessions.ts';
import { ConnectionPump } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { DEFAULT_MAX_STARTUPS, formatMaxStartups, refusesStartup, unitInterval, type MaxStartups } from '../../core/api/index.ts';
import type { AlgorithmOptions } from '../cli/probe.ts';

export interface ServeOptions {
  readonly host: string;
  /** 0 picks a free port; {@link RunningServer.port} says which. */
  readonly port: number;
  readonly hostKeys: readonly PrivateKey[];
  readonly algorithms?: AlgorithmOptions;
  readonly crypto?: CryptoProvider;
  /** One line per connection event (accepted, negotiated, closed); default: nothing. */
  readonly log?: (line: string) => void;
  /**
   * Answers the authentication decisions of each connection (see io-node/server-host/server-auth.ts). Without
   * it the server offers publickey, password and keyboard-interactive and refuses every attempt.
   */
  readonly auth?: ServeAuthenticator;
  /** Failed attempts before a connection is dropped (OpenSSH MaxAuthTries, default 6). */
  readonly maxAuthTries?: number;
  /** Sent to clients before authentication (USERAUTH_BANNER). */
  readonly banner?: string;
  /** OpenSSH host certificate blobs, each for one of `hostKeys`. */
  readonly hostCertificates?: readonly Uint8Array[];
  /** Key exchange and authentication must finish within this (OpenSSH LoginGraceTime; default 120 s, 0 = no limit). */
  readonly loginGraceMs?: number;
  /** ClientAliveInterval / ClientAliveCountMax: probe a silent client with keepalive@openssh.com. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Bound on connections that have not logged in yet (OpenSSH MaxStartups, default 10:30:100). */
  readonly maxStartups?: MaxStartups;
  /**
   * Sessions (exec, shell with the system shell, subsystems, ptys) and forwarding (-L, -R, -W,
   * Unix sockets) for authenticated users, see io-node/server-host/server-sessions.ts; false refuses every channel.
   */
  readonly sessions?: SessionHandlerOptions | false;
}

/** Makes the decision handler of one connection from where it comes from. */
export interface ServeAuthenticator {
  connection(peer: { readonly address: string; readonly port: number }): { decide(decision: Decision): unknown };
}

export interface RunningServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** Stop accepting, disconnect every open connection and wait until they are gone. */
  close(): Promise<void>;
  /**
   * Serve an already connected socket as if it had been accepted: a connection we dialed out
   * (RFC 8071 reverse direction, the client listening) or any stream the caller set up.
   */
  handleConnection(socket: Socket): void;
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
    ...(options.maxAuthTries !== undefined ? { maxAuthTries: options.maxAuthTries } : {}),
    ...(options.banner !== undefined ? { banner: options.banner } : {}),
    ...(options.hostCertificates !== undefined ? { hostCertificates: options.hostCertificates } : {}),
    ...(options.loginGraceMs !== undefined ? { loginGraceMs: options.loginGraceMs } : {}),
    ...(options.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: options.keepaliveIntervalMs } : {}),
    ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
  };
  new SshEngine({ ...engineOptions, now: performance.now() }).disconnect();
  // The account look-up opens files: do it while descriptors are plenty (see serverAccount).
  if (options.sessions !== false) serverAccount();

  const pumps = new Set<ConnectionPump>();
  const maxStartups = options.maxStartups ?? DEFAULT_MAX_STARTUPS;
  let unauthenticated = 0;
  const accept = (socket: Socket): void => {
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
    let awaitingLogin = false;
    const loggedInOrGone = () => {
      if (awaitingLogin) unauthenticated--;
      awaitingLogin = false;
    };
    const auth = options.auth?.connection({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    const sessions = options.sessions === false ? null : createSessionHandler({ ...options.sessions, log: (line) => log(`${peer}: ${line}`) });
    let username = '';
    // The context is built before the pump it points at; commands only run once the pump exists.
    let pump!: ConnectionPump;
    const ctx: ServerConnectionContext = {
      command: (fn) => pump.command(fn),
      get username() {
        return username;
      },
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    };
    pump = new ConnectionPump(engine, socket, {
      onDecision: (decision) => {
        if (decision.kind === 'channelOpen' || decision.kind === 'channelRequest' || decision.kind === 'globalRequest') {
          const answer = sessions?.onDecision(decision, ctx);
          if (answer !== undefined) return answer;
          if (decision.kind !== 'channelOpen') return false;
          // RFC 4254 5.1: a type we do not know at all is UNKNOWN_CHANNEL_TYPE; a known one is policy.
          return decision.request.type === 'other'
            ? { reason: OpenFailure.UNKNOWN_CHANNEL_TYPE, description: `unknown channel type ${decision.request.name}` }
            : { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${decision.request.type} channels are not offered by hermit serve` };
        }
        if (auth) return auth.decide(decision);
        // No policy: announce the usual methods and refuse every attempt.
        if (decision.kind === 'authMethods') return [['publickey'], ['password'], ['keyboard-interactive']];
        if (decision.kind.startsWith('auth')) return false;
        throw new Error(`no handler for ${decision.kind} decisions`);
      },
      onEvent: (event) => {
        if (event.type === 'authSuccess') {
          loggedInOrGone();
          username = event.username;
          log(`${peer}: authenticated as ${event.username} (${event.method})`);
        }
        // Every event: authSuccess carries the session policy, closed releases children and listeners.
        sessions?.onEvent(event, ctx);
        if (event.type === 'kexComplete') {
          const a = event.algorithms;
          const mac = (m: string | null) => m ?? '<implicit>';
          log(`${peer}: ${event.initial ? 'kex' : 're-kex'} ${a.kex} host key ${a.hostKey} cipher ${a.cipherClientToServer}/${a.cipherServerToClient} MAC ${mac(a.macClientToServer)}/${mac(a.macServerToClient)}${a.strictKex ? ' strict' : ''}`);
        }
      },
    });
    pumps.add(pump);
    unauthenticated++;
    awaitingLogin = true;
    void pump.closed.then((reason) => {
      loggedInOrGone();
      sessions?.close();
      pumps.delete(pump);
      log(`${peer}: closed${reason ? `: ${reason.message}` : ''}`);
    });
  };
  let lastShortage = -Infinity;
  const admit = (socket: Socket): void => {
    if (refusesStartup(maxStartups, unauthenticated, () => unitInterval(systemRandom))) {
      log(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: refused: ${unauthenticated} connections have not logged in yet (MaxStartups ${formatMaxStartups(maxStartups)})`);
      socket.destroy();
      return;
    }
    // Whatever one connection runs into (no descriptors for a file or a pipe, a failed look-up)
    // ends that connection, never the server.
    try {
      accept(socket);
    } catch (err) {
      log(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: refused: ${(err as Error).message}`);
      socket.destroy();
    }
  };
  const server = createServer(admit);
  const onListenerError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      // libuv normally closes a connection it has no descriptor for without telling us (it keeps a
      // spare one for that); this is the case where even that failed. Say so once a second.
      const now = performance.now();
      if (now - lastShortage >= 1000) log(`listener: out of file descriptors (${err.code}): new connections are dropped until some close`);
      lastShortage = now;
      return;
    }
    log(`listener: ${err.message}`);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', onListenerError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    host: address.address,
    port: address.port,
    handleConnection: admit,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      const all = [...pumps];
      for (const pump of all) pump.disconnect('server shutting down');
      await Promise.all(all.map((p) => p.closed));
      await closing;
    },
  };
}
