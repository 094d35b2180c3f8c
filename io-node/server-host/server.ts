/**
 * The server API on Node: core/api's listen / handleConnection / connectReverse over the Node
 * runtime. Sessions are core/api's ServerSession (its stdin is async-iterable, stdout and stderr
 * take bytes or text), the same objects Deno hands out. `hermit serve` (serve.ts) predates it.
 */
import type { Socket } from 'node:net';
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
} from '../../core/api/index.ts';
import { nodeRuntime, socketStream } from '../runtime/node-runtime.ts';

/** Listen on TCP and serve every client (host keys, authentication handlers, a session handler). */
export function listen(options: ListenOptions): Promise<SshServer> {
  return listenApi(nodeRuntime, options);
}

/** Serve one connected socket (or any ByteStream): a WebSocket's bytes, a connection set up elsewhere. */
export function handleConnection(socket: Socket | ByteStream, options: ServerOptions): Promise<ServerConnection> {
  const isSocket = typeof (socket as Socket).setNoDelay === 'function';
  return handleConnectionApi(nodeRuntime, isSocket ? socketStream(socket as Socket) : (socket as ByteStream), options);
}

/** RFC 8071: dial an SSH client that listens (`listenReverse`) and be the SSH server on that connection. */
export function connectReverse(options: ReverseConnectOptions): Promise<ServerConnection> {
  return connectReverseApi(nodeRuntime, options);
}
