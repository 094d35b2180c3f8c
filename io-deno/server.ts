/**
 * The server API on Deno: core/api's calls bound to the Deno runtime, with a `Deno.Conn` taken as
 * it is. Sessions are core/api's ServerSession, the same objects Node hands out.
 */
import { serverApi, type ByteStream, type ServerConnection, type ServerOptions } from '../core/api/index.ts';
import { connStream, denoRuntime } from './runtime.ts';

const api = serverApi(denoRuntime);

/** Listen on TCP and serve every client (host keys, authentication handlers, a session handler). */
export const listen = api.listen;

/** RFC 8071: dial an SSH client that listens (`listenReverse`) and be the SSH server on that connection. */
export const connectReverse = api.connectReverse;

/** Serve one connected `Deno.Conn` (or any ByteStream). */
export function handleConnection(conn: Deno.Conn | ByteStream, options: ServerOptions): Promise<ServerConnection> {
  return api.handleConnection('start' in conn ? conn : connStream(conn), options);
}
