/**
 * The server API on Deno: core/api's listen / handleConnection / connectReverse over the Deno
 * runtime. Sessions are core/api's ServerSession (its stdin is async-iterable, stdout and stderr
 * take bytes or text), the same objects Node hands out.
 */
import {
  connectReverse as connectReverseApi,
  handleConnection as handleConnectionApi,
  listen as listenApi,
  type ByteStream,
  type ListenOptions,
  type ReverseConnectOptions,
  type ServerConnection,
  type ServerOptions,
  type SshServer,
} from '../core/api/index.ts';
import { connStream, denoRuntime } from './runtime.ts';

/** Listen on TCP and serve every client (host keys, authentication handlers, a session handler). */
export function listen(options: ListenOptions): Promise<SshServer> {
  return listenApi(denoRuntime, options);
}

/** Serve one connected `Deno.Conn` (or any ByteStream): a WebSocket's bytes, a connection set up elsewhere. */
export function handleConnection(conn: Deno.Conn | ByteStream, options: ServerOptions): Promise<ServerConnection> {
  return handleConnectionApi(denoRuntime, 'start' in conn ? conn : connStream(conn), options);
}

/** RFC 8071: dial an SSH client that listens (`listenReverse`) and be the SSH server on that connection. */
export function connectReverse(options: ReverseConnectOptions): Promise<ServerConnection> {
  return connectReverseApi(denoRuntime, options);
}
