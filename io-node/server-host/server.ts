/**
 * The server API on Node: core/api's listen / handleConnection / connectReverse bound to the Node
 * runtime; a `net.Socket` is served as it is. Sessions are core/api's ServerSession (its stdin is
 * async-iterable, stdout and stderr take bytes or text). `hermit serve` (serve.ts) predates it.
 */
import type { Socket } from 'node:net';
import { serverApi, type ByteStream, type ServerConnection, type ServerOptions } from '../../core/api/index.ts';
import { nodeRuntime, socketStream } from '../runtime/node-runtime.ts';

const api = serverApi(nodeRuntime);

/** Listen on TCP and serve every client (host keys, authentication handlers, a session handler). */
export const listen = api.listen;

/** RFC 8071: dial an SSH client that listens (`listenReverse`) and be the SSH server on that connection. */
export const connectReverse = api.connectReverse;

/** Serve one connected socket (or any ByteStream): a WebSocket's bytes, a connection set up elsewhere. */
export function handleConnection(socket: Socket | ByteStream, options: ServerOptions): Promise<ServerConnection> {
  const isSocket = typeof (socket as Socket).setNoDelay === 'function';
  return api.handleConnection(isSocket ? socketStream(socket as Socket) : (socket as ByteStream), options);
}
