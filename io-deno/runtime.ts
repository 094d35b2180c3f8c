/**
 * The Runtime for Deno (DESIGN.md section 3): `Deno.Conn` as a ByteStream (a read loop and one
 * write chain), one unref'd timer, Deno's file and environment calls. Everything above it — the
 * driver, channels, the client — is core/api, the same code Node runs.
 *
 * Crypto: the pure provider. Deno's node:crypto is fast for chacha20-poly1305 but slow for
 * AES-GCM (about 150 MB/s), so a caller who wants it passes `crypto` explicitly.
 */
import { pureCrypto, systemRandom } from '../core/index.ts';
import { connectError, hostTimer, type ByteStream, type ByteStreamHandlers, type DialOptions, type Listener, type Runtime, type RuntimeTimer } from '../core/api/index.ts';

const READ_BUFFER = 64 * 1024;
/** Bytes queued for the socket above which `write` asks the driver to wait for `drain`. */
const WRITE_HIGH_WATER = 256 * 1024;

export function denoTimer(now: () => number, fire: () => void): RuntimeTimer {
  return hostTimer(
    now,
    fire,
    (run, ms) => {
      const id = setTimeout(run, ms);
      Deno.unrefTimer(id);
      return id;
    },
    clearTimeout,
  );
}

/** A connected `Deno.Conn` as a ByteStream; TCP_NODELAY is set (SSH is small request/response packets). */
export function connStream(conn: Deno.Conn): ByteStream {
  if ('setNoDelay' in conn) (conn as Deno.TcpConn).setNoDelay(true);
  let handlers: ByteStreamHandlers | null = null;
  let paused = false;
  let resume: (() => void) | null = null;
  let queued = 0;
  let wantDrain = false;
  let writing: Promise<void> = Promise.resolve();
  let readEnded = false;
  let writeEnded = false;
  let ending = false;
  let closed = false;
  let error: Error | null = null;

  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
    resume?.();
    handlers?.close(error);
  };
  const readLoop = async (): Promise<void> => {
    const buffer = new Uint8Array(READ_BUFFER);
    while (!closed) {
      if (paused) await new Promise<void>((r) => (resume = r));
      resume = null;
      if (closed) return;
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (err) {
        if (!closed) error ??= err as Error;
        n = null;
      }
      if (closed) return;
      if (n === null) {
        readEnded = true;
        if (error) return close();
        handlers!.end();
        if (writeEnded) close();
        return;
      }
      handlers!.data(buffer.subarray(0, n));
    }
  };
  const addr = (a: Deno.Addr): { address?: string; port?: number } => ('hostname' in a ? { address: a.hostname, port: a.port } : {});
  const remote = addr(conn.remoteAddr);
  const local = addr(conn.localAddr);
  return {
    start(h) {
      handlers = h;
      void readLoop();
    },
    write(bytes) {
      if (closed || ending) return true;
      // The engine may reuse its buffer once we return.
      const copy = bytes.slice();
      queued += copy.length;
      writing = writing.then(async () => {
        try {
          for (let off = 0; off < copy.length && !closed; ) off += await conn.write(copy.subarray(off));
        } catch (err) {
          error ??= err as Error;
          close();
        }
        queued -= copy.length;
        if (wantDrain && queued < WRITE_HIGH_WATER) {
          wantDrain = false;
          handlers?.drain();
        }
      });
      if (queued < WRITE_HIGH_WATER) return true;
      wantDrain = true;
      return false;
    },
    end() {
      if (closed || ending) return;
      ending = true;
      void writing.then(async () => {
        try {
          await conn.closeWrite();
        } catch {
          // the peer is gone already
        }
        writeEnded = true;
        if (readEnded) close();
      });
    },
    destroy: close,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      resume?.();
    },
    keepAlive(on) {
      if (on) conn.ref();
      else conn.unref();
    },
    remoteAddress: remote.address,
    remotePort: remote.port,
    localAddress: local.address,
    localPort: local.port,
  };
}

async function dial(where: string, open: () => Promise<Deno.Conn>, options: DialOptions = {}): Promise<ByteStream> {
  const { signal, timeoutMs = 0 } = options;
  if (signal?.aborted) throw connectError(where, 'ABORT_ERR', 'aborted', signal.reason);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const attempt = open();
  const giveUp = new Promise<never>((_, reject) => {
    if (timeoutMs > 0) timer = setTimeout(() => reject(connectError(where, 'ETIMEDOUT', `timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    onAbort = () => reject(connectError(where, 'ABORT_ERR', 'aborted', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return connStream(await Promise.race([attempt, giveUp]));
  } catch (err) {
    // A connect that completes after we gave up must not leak its socket.
    attempt.then((conn) => conn.close(), () => {});
    throw 'code' in (err as object) && (err as Error).name === 'ConnectError' ? err : connectError(where, denoErrorCode(err), (err as Error).message, err);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Deno's error classes, as the POSIX names the API's messages use. */
function denoErrorCode(err: unknown): string {
  if (err instanceof Deno.errors.ConnectionRefused) return 'ECONNREFUSED';
  if (err instanceof Deno.errors.NotFound) return 'ENOENT';
  if (err instanceof Deno.errors.ConnectionReset) return 'ECONNRESET';
  if (err instanceof Deno.errors.TimedOut) return 'ETIMEDOUT';
  if (err instanceof Deno.errors.PermissionDenied) return 'EACCES';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ECONNECT';
}

function serveListener(listener: Deno.Listener, address: Listener['address'], onConnection: (stream: ByteStream) => void): Listener {
  void (async () => {
    try {
      for await (const conn of listener) onConnection(connStream(conn));
    } catch {
      // closed
    }
  })();
  return {
    address,
    close: async () => {
      try {
        listener.close();
      } catch {
        // already closed
      }
    },
  };
}

function fileError(err: unknown): Error {
  const code = err instanceof Deno.errors.NotFound ? 'ENOENT' : err instanceof Deno.errors.PermissionDenied ? 'EACCES' : err instanceof Deno.errors.IsADirectory ? 'EISDIR' : err instanceof Deno.errors.AlreadyExists ? 'EEXIST' : undefined;
  return code ? Object.assign(err as Error, { code }) : (err as Error);
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    // Without --allow-env there is no environment to read.
    return undefined;
  }
}

export const denoRuntime: Runtime = {
  now: () => performance.now(),
  createTimer: (fire) => denoTimer(() => performance.now(), fire),
  connectTcp: (host, port, options) => dial(`${host} port ${port}`, () => Deno.connect({ hostname: host, port, transport: 'tcp' }), options),
  connectUnix: (path, options) => dial(path, () => Deno.connect({ path, transport: 'unix' }), options),
  async listenTcp(host, port, onConnection) {
    const listener = Deno.listen({ hostname: host, port, transport: 'tcp' });
    return serveListener(listener, { host, port: (listener.addr as Deno.NetAddr).port }, onConnection);
  },
  async listenUnix(path, onConnection) {
    return serveListener(Deno.listen({ path, transport: 'unix' }), { path }, onConnection);
  },
  readFile: (path) => Deno.readFile(path).catch((err: unknown) => Promise.reject(fileError(err))),
  writeFile: (path, data, options = {}) =>
    Deno.writeFile(path, data, { ...(options.append ? { append: true } : {}), ...(options.mode !== undefined ? { mode: options.mode } : {}) }).catch((err: unknown) => Promise.reject(fileError(err))),
  listDirectory: async (path) => {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(path)) names.push(entry.name);
    } catch (err) {
      throw fileError(err);
    }
    return names;
  },
  makeDirectory: (path, mode) => Deno.mkdir(path, { recursive: true, mode }).catch((err: unknown) => Promise.reject(fileError(err))),
  wallClock: () => Date.now(),
  env: envGet,
  homeDir: () => envGet('HOME') ?? '/',
  userName: () => envGet('USER') ?? envGet('LOGNAME') ?? 'unknown',
  crypto: pureCrypto,
  random: systemRandom,
};
