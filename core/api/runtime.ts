/**
 * The seam between the promise API (core/api) and the world (DESIGN.md section 3). Everything the
 * API needs from a runtime — sockets, one timer per connection, monotonic time, files, the crypto
 * provider, randomness — comes through this interface; io-node and io-deno implement it, and
 * core/testing has an in-memory one on virtual time. Each member is small so that an adapter is
 * about a hundred lines.
 */
import type { CryptoProvider, RandomSource } from '../crypto/provider.ts';

/** Handlers a {@link ByteStream} calls; set once, with `start`. */
export interface ByteStreamHandlers {
  /** Bytes arrived. The stream keeps delivering until `pause()`. */
  data(bytes: Uint8Array): void;
  /** The peer half-closed (FIN). */
  end(): void;
  /** The stream is gone; `error` is why when it did not end cleanly (a reset, a failed write). */
  close(error: Error | null): void;
  /** The runtime's send buffer went below its mark after `write` returned false. */
  drain(): void;
}

/** A connected, reliable, ordered byte stream: a TCP or Unix socket, or an SSH channel. */
export interface ByteStream {
  /** Start delivering events. Called once, right after the stream is handed over. */
  start(handlers: ByteStreamHandlers): void;
  /** Queue bytes in order, as one write. False: the send buffer is above its mark; wait for `drain`. */
  write(bytes: Uint8Array): boolean;
  /** Half-close after what is queued (FIN); reading goes on until the peer ends too. */
  end(): void;
  /** Drop the stream now. `close` follows. */
  destroy(): void;
  /** Stop / restart delivering `data` (backpressure towards the peer). */
  pause(): void;
  resume(): void;
  /** Whether this stream alone keeps the process alive (an idle agent connection should not). Default on. */
  keepAlive?(on: boolean): void;
  /** Where it goes, where known (for SSH_CLIENT, logs, forwarding originator fields). */
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

/** A one-shot timer that can be re-armed: a connection uses exactly one. */
export interface RuntimeTimer {
  /** Fire at `deadline` (the runtime's `now()` clock), replacing any earlier arming; null disarms. */
  arm(deadline: number | null): void;
}

export interface Listener {
  /** Where it listens: host and port (port 0 asked → the chosen one), or a Unix socket path. */
  readonly address: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Stop accepting (connections already handed over are unaffected). */
  close(): Promise<void>;
}

export interface DialOptions {
  /** Give up after this long (0 or absent: no limit). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What a failed file operation says: `code` as POSIX names it (ENOENT, EACCES, …). */
export interface RuntimeFileError extends Error {
  readonly code?: string;
}

export interface Runtime {
  /** Monotonic milliseconds. */
  now(): number;
  /** A timer on the same clock as `now`; `fire` runs at (or after) the armed deadline. */
  createTimer(fire: () => void): RuntimeTimer;
  /** Open a TCP connection with TCP_NODELAY set. Rejects with a {@link ConnectError}. */
  connectTcp(host: string, port: number, options?: DialOptions): Promise<ByteStream>;
  connectUnix(path: string, options?: DialOptions): Promise<ByteStream>;
  listenTcp(host: string, port: number, onConnection: (stream: ByteStream) => void): Promise<Listener>;
  listenUnix(path: string, onConnection: (stream: ByteStream) => void): Promise<Listener>;
  /** Whole-file reads and writes (keys, known_hosts, config); errors carry `code`. */
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array, options?: { readonly mode?: number; readonly append?: boolean }): Promise<void>;
  /** The names in a directory (ssh_config Include globs). */
  listDirectory(path: string): Promise<string[]>;
  /** Create a directory and its missing parents (`~/.ssh` with mode 0700); no error if it exists. */
  makeDirectory(path: string, mode: number): Promise<void>;
  /** Wall-clock milliseconds since the Unix epoch (certificate validity, known_hosts expiry): never used for timeouts. */
  wallClock(): number;
  /** An environment variable (SSH_AUTH_SOCK, HOME, …), or undefined. */
  env(name: string): string | undefined;
  /** The user's home directory, for `~` and the default key and known_hosts files. */
  homeDir(): string;
  /** The local user name (ssh_config %u, Match localuser). */
  userName(): string;
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
}

/** A connection failed before SSH started; `message` is one line fit for a user. */
export class ConnectError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ConnectError';
    this.code = code;
  }
}

const CONNECT_ERROR_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  ECONNRESET: 'connection reset by peer',
  ENOENT: 'no such socket',
  ETIMEDOUT: 'timed out',
};

/** The user's line for a failed dial, the same in every runtime: `cannot connect to HOST port N: connection refused`. */
export function connectError(where: string, code: string, detail: string, cause?: unknown): ConnectError {
  return new ConnectError(code, `cannot connect to ${where}: ${CONNECT_ERROR_TEXT[code] ?? detail}`, cause === undefined ? undefined : { cause });
}

/** Longest delay a host's setTimeout accepts; a later deadline fires early and is re-armed. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A {@link RuntimeTimer} over a host's one-shot timer functions (setTimeout/clearTimeout, given by
 * the adapter so core stays free of globals). A deadline past the host's limit fires early and re-arms.
 */
export function hostTimer<H>(now: () => number, fire: () => void, schedule: (run: () => void, delayMs: number) => H, cancel: (handle: H) => void): RuntimeTimer {
  let handle: H | null = null;
  let armedFor: number | null = null;
  const arm = (deadline: number | null): void => {
    if (handle !== null) cancel(handle);
    handle = null;
    armedFor = deadline;
    if (deadline === null) return;
    handle = schedule(() => {
      handle = null;
      if (armedFor === null) return;
      if (now() + 1 < armedFor) return arm(armedFor);
      armedFor = null;
      fire();
    }, Math.min(Math.max(0, Math.ceil(deadline - now())), MAX_TIMER_DELAY));
  };
  return { arm };
}
