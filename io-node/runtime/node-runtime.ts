/**
 * The Runtime for Node (DESIGN.md section 3): node:net sockets as ByteStreams, one unref'd
 * setTimeout per timer, node:fs for files, the node:crypto provider. Everything above this —
 * the driver, channels, the client — is core/api, the same code Deno runs.
 */
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { performance } from 'node:perf_hooks';
import { systemRandom } from '../../core/index.ts';
import { connectError, hostTimer, type ByteStream, type DialOptions, type Listener, type Runtime, type RuntimeTimer } from '../../core/api/index.ts';
import { nodeCrypto } from './crypto-node.ts';

/** A timer on `now`'s clock that never keeps the process alive by itself (the socket does). */
export function nodeTimer(now: () => number, fire: () => void): RuntimeTimer {
  return hostTimer(now, fire, (run, ms) => setTimeout(run, ms).unref(), clearTimeout);
}

/** A connected node:net socket as a ByteStream (TCP_NODELAY on: SSH is small request/response packets). */
export function socketStream(socket: Socket): ByteStream {
  if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  return {
    start(handlers) {
      let error: Error | null = null;
      socket.on('data', (chunk: Buffer) => handlers.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      socket.on('end', () => handlers.end());
      socket.on('error', (err: Error) => (error ??= err));
      socket.on('close', () => handlers.close(error));
      socket.on('drain', () => handlers.drain());
    },
    write: (bytes) => (socket.destroyed || !socket.writable ? true : socket.write(bytes)),
    // A half-close only: a forwarded connection may still be answered long after (the SSH
    // connection's own linger lives in the driver).
    end: () => void (socket.destroyed || socket.writableEnded || socket.end()),
    destroy: () => void socket.destroy(),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    keepAlive: (on) => void (on ? socket.ref() : socket.unref()),
    get remoteAddress() {
      return socket.remoteAddress;
    },
    get remotePort() {
      return socket.remotePort;
    },
    get localAddress() {
      return socket.localAddress;
    },
    get localPort() {
      return socket.localPort;
    },
  };
}

/** Open a socket (TCP or Unix), failing with a ConnectError after `timeoutMs` or on abort. */
export function dialSocket(target: { host: string; port: number } | { path: string }, options: DialOptions = {}): Promise<Socket> {
  const where = 'path' in target ? target.path : `${target.host} port ${target.port}`;
  return new Promise((resolve, reject) => {
    const { signal, timeoutMs = 0 } = options;
    if (signal?.aborted) return reject(connectError(where, 'ABORT_ERR', 'aborted', signal.reason));
    // Half-open allowed: the peer's FIN ends only its direction (forwarded protocols answer after it).
    const socket = 'path' in target ? connect({ path: target.path, allowHalfOpen: true }) : connect({ host: target.host, port: target.port, allowHalfOpen: true });
    let timer: NodeJS.Timeout | null = null;
    const onAbort = () => fail(connectError(where, 'ABORT_ERR', 'aborted', signal?.reason));
    const cleanUp = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      cleanUp();
      socket.destroy();
      reject(err);
    };
    socket.once('error', (err: NodeJS.ErrnoException) => fail(connectError(where, err.code ?? 'ECONNECT', err.message, err)));
    socket.once('connect', () => {
      cleanUp();
      socket.removeAllListeners('error');
      resolve(socket);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) timer = setTimeout(() => fail(connectError(where, 'ETIMEDOUT', `timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  });
}

async function listenOn(server: Server, bind: () => void, describe: () => Listener['address']): Promise<Listener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    bind();
  });
  const address = describe();
  // server.close's callback waits for every accepted socket; the listening socket itself is
  // released at once, which is what Listener.close promises.
  return { address, close: () => new Promise<void>((resolve) => (server.close(), setImmediate(resolve))) };
}

export const nodeRuntime: Runtime = {
  now: () => performance.now(),
  createTimer: (fire) => nodeTimer(() => performance.now(), fire),
  connectTcp: async (host, port, options) => socketStream(await dialSocket({ host, port }, options)),
  connectUnix: async (path, options) => socketStream(await dialSocket({ path }, options)),
  listenTcp(host, port, onConnection) {
    const server = createServer({ allowHalfOpen: true }, (socket) => onConnection(socketStream(socket)));
    return listenOn(
      server,
      () => server.listen(port, host),
      () => ({ host, port: (server.address() as { port: number }).port }),
    );
  },
  listenUnix(path, onConnection) {
    const server = createServer({ allowHalfOpen: true }, (socket) => onConnection(socketStream(socket)));
    return listenOn(
      server,
      () => server.listen(path),
      () => ({ path }),
    );
  },
  readFile: async (path) => {
    const data = await readFile(path);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  },
  writeFile: (path, data, options = {}) => (options.append ? appendFile(path, data, options.mode !== undefined ? { mode: options.mode } : {}) : writeFile(path, data, options.mode !== undefined ? { mode: options.mode } : {})),
  listDirectory: (path) => readdir(path),
  makeDirectory: async (path, mode) => void (await mkdir(path, { recursive: true, mode })),
  wallClock: () => Date.now(),
  env: (name) => process.env[name],
  homeDir: () => homedir(),
  userName: () => userInfo().username,
  crypto: nodeCrypto,
  random: systemRandom,
};
