/**
 * TCP entry points for Deno: `connect` dials a server and runs a client engine over the socket,
 * `listen` accepts connections and runs a server engine on each. Host key trust is a decision the
 * caller answers (`onHostKey`), exactly as with io-node.
 */
import { SshEngine, type Decision, type HostKeyDecision, type SshEngineOptions, type SshEvent } from '../core/index.ts';

/** The safe answer to a question nobody configured: refuse (null where refusing means "skip"). */
function declineDecision(d: Decision): unknown {
  switch (d.kind) {
    case 'authMethods':
      return [['publickey']];
    case 'sign':
    case 'password':
    case 'passwordChange':
    case 'keyboardInteractive':
      return null;
    default:
      return false;
  }
}
import { DenoConnectionPump } from './pump.ts';

export interface DenoConnectOptions extends Omit<SshEngineOptions, 'role' | 'now'> {
  readonly hostname: string;
  readonly port: number;
  /** Trust the server's key? May be async. Required: there is no safe default. */
  readonly onHostKey: (decision: HostKeyDecision) => boolean | Promise<boolean>;
  /** Every other decision (signatures, passwords, channel requests); default: decline (null / false). */
  readonly onDecision?: (decision: Decision) => unknown;
  readonly onEvent?: (event: SshEvent) => void;
}

export async function connect(options: DenoConnectOptions): Promise<DenoConnectionPump> {
  const { hostname, port, onHostKey, onDecision, onEvent, ...engineOptions } = options;
  const conn = await Deno.connect({ hostname, port, transport: 'tcp' });
  const engine = new SshEngine({ ...engineOptions, role: 'client', now: performance.now() });
  return new DenoConnectionPump(engine, conn, {
    onDecision: (d) => (d.kind === 'hostKey' ? onHostKey(d) : onDecision ? onDecision(d) : declineDecision(d)),
    ...(onEvent ? { onEvent } : {}),
  });
}

export interface DenoListenOptions extends Omit<SshEngineOptions, 'role' | 'now'> {
  readonly hostname?: string;
  readonly port: number;
  readonly onConnection?: (pump: DenoConnectionPump) => void;
  /** Authentication and connection decisions; default: decline everything (only `acceptNoneAuthentication` logs in). */
  readonly onDecision?: (decision: Decision, pump: DenoConnectionPump) => unknown;
  readonly onEvent?: (event: SshEvent, pump: DenoConnectionPump) => void;
}

export interface DenoServer {
  readonly port: number;
  close(): void;
}

export function listen(options: DenoListenOptions): DenoServer {
  const { hostname = '127.0.0.1', port, onConnection, onDecision, onEvent, ...engineOptions } = options;
  const listener = Deno.listen({ hostname, port, transport: 'tcp' });
  const pumps = new Set<DenoConnectionPump>();
  void (async () => {
    try {
      for await (const conn of listener) {
        const engine = new SshEngine({ ...engineOptions, role: 'server', now: performance.now() });
        const pump: DenoConnectionPump = new DenoConnectionPump(engine, conn, {
          onDecision: (d) => (onDecision ? onDecision(d, pump) : declineDecision(d)),
          onEvent: (e) => onEvent?.(e, pump),
        });
        pumps.add(pump);
        void pump.closed.then(() => pumps.delete(pump));
        onConnection?.(pump);
      }
    } catch {
      /* listener closed */
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const p of pumps) p.disconnect('server shutting down');
    },
  };
}
