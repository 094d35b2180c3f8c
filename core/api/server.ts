/**
 * The server half of the promise API (DESIGN.md section 3), written once over a {@link Runtime}:
 * `listen()` accepts TCP connections, `handleConnection()` serves any connected stream, and
 * `connectReverse()` dials out and serves (RFC 8071: the TCP client is the SSH server). Each
 * connection is one server engine run by the {@link ConnectionDriver}; who may log in is decided by
 * async handlers (RFC 4252 sections 5-8, RFC 4256), and each session channel (RFC 4254 section 6)
 * is handed to the session handler as a {@link ServerSession}: the command, the environment, the
 * pty and its size changes, signals, stdin, stdout, stderr and the exit status.
 */
import { SshEngine, type SshEngineOptions } from '../engine.ts';
import type { ChannelOpenRequest, ChannelRequest } from '../connection/messages.ts';
import type { TerminalModes } from '../connection/terminal-modes.ts';
import { OpenFailure } from '../connection/connection.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import type { Decision, KeyboardPrompt, SshEvent } from '../events.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { PublicKey } from '../keys/public-key.ts';
import { parseCertificate, type Certificate } from '../keys/certificate.ts';
import { ChannelWriter, SshChannel, type ChannelHost, type ChannelReader } from './channel.ts';
import type { LogRecord } from './client.ts';
import { ConnectionDriver, type CloseReason } from './driver.ts';
import { ConnectionClosedError } from './errors.ts';
import { readPrivateKeyFile } from './key-files.ts';
import type { ByteStream, Listener, Runtime } from './runtime.ts';
import { ServerForwarding, type ServerForwardingPolicy } from './server-forwarding.ts';
import { LineEditor, type LineEditorOptions } from './line-editor.ts';
import { DEFAULT_MAX_STARTUPS, formatMaxStartups, parseMaxStartups, refusesStartup, unitInterval, type MaxStartups } from './max-startups.ts';

/** Who is connecting, for every authentication handler. */
export interface ServerPeer {
  readonly address: string;
  readonly port: number;
}

export interface PublicKeyAttempt {
  readonly username: string;
  readonly key: PublicKey;
  readonly algorithm: string;
  /** The certificate the client presented for `key` (its CA signature is not checked here: check `certificate.signatureKey`). */
  readonly certificate?: Certificate;
  /**
   * True: the client proved it holds the private half (its signature over this session verified
   * with exactly `key`); the answer decides the login. False: only a query whether the key would
   * do (the answer decides PK_OK); no login follows from it.
   */
  readonly proven: boolean;
  readonly peer: ServerPeer;
}

/** Authentication by handlers; the methods offered are those with a handler (or `methods`). */
export interface ServerAuthHandlers {
  readonly password?: (attempt: { readonly username: string; readonly password: string; readonly peer: ServerPeer }) => boolean | Promise<boolean>;
  readonly publicKey?: (attempt: PublicKeyAttempt) => boolean | Promise<boolean>;
  /**
   * One round of keyboard-interactive (RFC 4256): `responses` is null when the method starts.
   * Answer prompts for another round, or true / false to finish.
   */
  readonly keyboardInteractive?: (round: {
    readonly username: string;
    readonly round: number;
    readonly responses: readonly string[] | null;
    readonly peer: ServerPeer;
  }) => { readonly name?: string; readonly instruction?: string; readonly prompts: readonly KeyboardPrompt[] } | boolean | Promise<{ readonly name?: string; readonly instruction?: string; readonly prompts: readonly KeyboardPrompt[] } | boolean>;
  /** Let this user in without any authentication (the `none` method); default nobody. */
  readonly none?: (username: string, peer: ServerPeer) => boolean | Promise<boolean>;
  /** AuthenticationMethods: chains that must all succeed, e.g. [['publickey', 'password']]. Default: each method with a handler on its own. */
  readonly methods?: ReadonlyArray<readonly string[]>;
}

/** A session's code: may be async, may return the exit status (default 0). */
export type SessionHandler = (session: ServerSession) => void | number | Promise<void | number>;

export interface ServerPty {
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
  readonly widthPx: number;
  readonly heightPx: number;
  readonly modes: TerminalModes;
}

export interface ServerOptions {
  /** Host keys: key objects, or paths of unencrypted key files. At least one. */
  readonly hostKeys: ReadonlyArray<PrivateKey | string>;
  /** OpenSSH host certificate blobs, each for one of the host keys. */
  readonly hostCertificates?: readonly Uint8Array[];
  readonly auth?: ServerAuthHandlers;
  /** Each session that asks for a command, a shell or a subsystem. Without it sessions are refused. */
  readonly session?: SessionHandler;
  /** Subsystems by name (e.g. `sftp`), each handled like a session; other names go to `session`. */
  readonly subsystems?: Readonly<Record<string, SessionHandler>>;
  /**
   * Channel types of our own (or any RFC 4254 type not served here), by name: the handler gets the
   * channel and answers true to take it, false to refuse (as Twisted Conch's custom channels).
   */
  readonly channels?: Readonly<Record<string, (channel: SshChannel, open: { readonly request: ChannelOpenRequest; readonly username: string; readonly peer: ServerPeer }) => boolean | Promise<boolean>>>;
  /** MaxSessions: session channels open at once on one connection (default 10, as sshd). */
  readonly maxSessions?: number;
  /** Per-request forwarding decisions (direct-tcpip, tcpip-forward, streamlocal, agent); default all refused. */
  readonly forwarding?: ServerForwardingPolicy;
  /** Sent before authentication (USERAUTH_BANNER). */
  readonly banner?: string;
  /** Failed attempts before the connection is dropped (MaxAuthTries, default 6). */
  readonly maxAuthTries?: number;
  /** Key exchange and authentication must finish within this many milliseconds (LoginGraceTime, default 120 000; 0: no limit). */
  readonly loginTimeout?: number;
  /** ClientAliveInterval / ClientAliveCountMax (milliseconds; 0 disables, the default). */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  readonly algorithms?: SshEngineOptions['algorithms'];
  /** Default: the runtime's provider. */
  readonly crypto?: CryptoProvider;
  readonly log?: (record: LogRecord) => void;
}

export interface ListenOptions extends ServerOptions {
  /** Default 127.0.0.1; port 0 picks a free port (see `address`). */
  readonly host?: string;
  readonly port?: number;
  /** How long `close()` waits for clients to go after the DISCONNECT before dropping them (default 5 000 ms). */
  readonly closeTimeout?: number;
  /** MaxStartups: connections not logged in yet, `N` or `begin:rate:full` random early drop (default 10:30:100). */
  readonly maxStartups?: MaxStartups | string;
  /** PerSourceMaxStartups: connections not logged in yet from one address (default: no limit of its own). */
  readonly perSourceMaxStartups?: number;
}

const DEFAULT_LOGIN_TIMEOUT = 120_000;
const DEFAULT_CLOSE_TIMEOUT = 5_000;

/** A session channel as the session handler sees it: a process on our side of the connection. */
export class ServerSession {
  /** What the client asked for. */
  readonly kind: 'exec' | 'shell' | 'subsystem';
  /** The command line of `exec`, else null. */
  readonly command: string | null;
  /** The subsystem name (e.g. `sftp`), else null. */
  readonly subsystem: string | null;
  readonly username: string;
  /** Variables the client sent with `env` requests. */
  readonly env: Readonly<Record<string, string>>;
  /** The terminal the client asked for (pty-req), or null; `cols`/`rows` follow window-change. */
  readonly pty: ServerPty | null;
  readonly peer: ServerPeer;
  /** What the client sends (its EOF ends it). */
  readonly stdin: ChannelReader;
  readonly stdout: ChannelWriter;
  /** Extended data type 1 (RFC 4254 section 5.2). */
  readonly stderr: ChannelWriter;
  /** Settles when the channel is gone. */
  readonly closed: Promise<void>;

  /** The client's window-change requests (the size is in `pty` too). */
  onResize: ((size: { readonly cols: number; readonly rows: number; readonly widthPx: number; readonly heightPx: number }) => void) | null = null;
  /** The client's signal requests (RFC 4254 section 6.9), by name without SIG (`INT`, `TERM`, …). */
  onSignal: ((name: string) => void) | null = null;
  /** The client's break requests (RFC 4335), with the length asked for. */
  onBreak: ((lengthMs: number) => void) | null = null;

  private exited = false;
  private editor: LineEditor | null = null;

  /** @internal Made by the connection once the start request was accepted. */
  constructor(
    private readonly channel: SshChannel,
    start: { kind: ServerSession['kind']; command: string | null; subsystem: string | null; username: string; env: Record<string, string>; pty: ServerPty | null; peer: ServerPeer },
  ) {
    this.kind = start.kind;
    this.command = start.command;
    this.subsystem = start.subsystem;
    this.username = start.username;
    this.env = start.env;
    this.pty = start.pty;
    this.peer = start.peer;
    this.stdin = channel.reader;
    this.stdout = channel.writer;
    this.stderr = new ChannelWriter(channel, 1);
    this.closed = channel.closed;
  }

  /** End the session with an exit status: after what stdout and stderr queued, EOF, `exit-status`, CLOSE. Idempotent. */
  async exit(status: number): Promise<void> {
    if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) throw new TypeError(`exit status must be an integer 0-4294967295, not ${status}`);
    await this.finish({ type: 'exit-status', status });
  }

  /** End the session as killed by a signal (`exit-signal`, RFC 4254 section 6.10), e.g. `TERM`. */
  async exitSignal(name: string, options: { readonly coreDumped?: boolean; readonly message?: string } = {}): Promise<void> {
    await this.finish({ type: 'exit-signal', signal: name.replace(/^SIG/, ''), coreDumped: options.coreDumped ?? false, message: options.message ?? '', language: '' });
  }

  /**
   * The lines the client types or sends. With a pty they go through a {@link LineEditor} (echo,
   * editing, history; ^C calls `onInterrupt` and drops the line; ^D on an empty line ends them);
   * without one, stdin is split at line ends, nothing is echoed. Ends at EOF. One reader at a time.
   */
  async *readLines(options: LineEditorOptions & { readonly onInterrupt?: () => void } = {}): AsyncIterable<string> {
    const decoder = new TextDecoder();
    if (!this.pty) {
      let rest = '';
      for await (const chunk of this.stdin) {
        rest += decoder.decode(chunk, { stream: true });
        const parts = rest.split(/\r?\n/);
        rest = parts.pop()!;
        for (const line of parts) yield line;
      }
      rest += decoder.decode();
      if (rest !== '') yield rest;
      return;
    }
    const editor = (this.editor ??= new LineEditor(options));
    for await (const chunk of this.stdin) {
      const { output, events } = editor.feed(decoder.decode(chunk, { stream: true }));
      if (output) await this.stdout.write(output);
      for (const event of events) {
        if (event.type === 'line') yield event.line;
        else if (event.type === 'interrupt') options.onInterrupt?.();
        else if (event.type === 'eof') return;
      }
    }
  }

  /** The editor {@link readLines} uses on a pty (turn echo off for a password, or character mode for raw keys). */
  get lineEditor(): LineEditor | null {
    if (!this.pty) return null;
    return (this.editor ??= new LineEditor());
  }

  /** Whether `exit` / `exitSignal` was called (or the channel is gone). */
  get hasExited(): boolean {
    return this.exited || !this.channel.active;
  }

  private async finish(request: ChannelRequest): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    // stderr's queue first: no extended data may follow our EOF.
    await this.stderr.write(new Uint8Array(0));
    await this.stdout.end();
    if (this.channel.active) await this.channel.request(request, false);
    await this.channel.close();
  }

  /** @internal */
  resized(cols: number, rows: number, widthPx: number, heightPx: number): void {
    if (this.pty) Object.assign(this.pty as { cols: number; rows: number; widthPx: number; heightPx: number }, { cols, rows, widthPx, heightPx });
    this.onResize?.({ cols, rows, widthPx, heightPx });
  }
}

/** One client's connection on the server side. */
export class ServerConnection {
  /** Settles when the connection is over, with why (null: a clean goodbye). Never rejects. */
  readonly closed: Promise<CloseReason>;
  /** The user who logged in (empty until then). */
  username = '';
  /** Settles true once a user logged in, false if the connection ended first. */
  readonly loggedIn: Promise<boolean>;
  /** Where the client connects from. */
  readonly peer: ServerPeer;
  private settleLogin!: (ok: boolean) => void;
  private sessions = 0;

  private readonly engine: SshEngine;
  private readonly driver: ConnectionDriver;
  private readonly host: ChannelHost;
  private readonly channels = new Map<number, SshChannel>();
  private readonly forwarding: ServerForwarding;

  /** @internal Use {@link handleConnection}, {@link listen} or {@link connectReverse}. */
  constructor(
    private readonly runtime: Runtime,
    stream: ByteStream,
    private readonly options: ServerOptions,
    hostKeys: readonly PrivateKey[],
  ) {
    this.peer = { address: stream.remoteAddress ?? '', port: stream.remotePort ?? 0 };
    this.loggedIn = new Promise((resolve) => (this.settleLogin = resolve));
    const loginTimeout = options.loginTimeout ?? DEFAULT_LOGIN_TIMEOUT;
    this.engine = new SshEngine({
      ...engineOptions(runtime, options, hostKeys),
      ...(options.banner !== undefined ? { banner: options.banner } : {}),
      ...(options.maxAuthTries !== undefined ? { maxAuthTries: options.maxAuthTries } : {}),
      loginGraceMs: loginTimeout,
      ...(options.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: options.keepaliveIntervalMs } : {}),
      ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
    });
    this.driver = new ConnectionDriver(this.engine, stream, runtime, {
      onDecision: (d) => this.decide(d),
      onAnswered: (d, answer) => {
        if (d.kind === 'channelOpen' && answer === true) this.channels.get(d.channel)?.handle({ type: 'channelOpenConfirmed', channel: d.channel });
      },
      onEvent: (e) => this.route(e),
    });
    this.host = this.driver.channelHost();
    this.forwarding = new ServerForwarding(options.forwarding ?? {}, {
      runtime,
      username: () => this.username,
      openChannel: (request) => this.openChannel(request),
      log: (message) => this.log('info', 'forwarding', `${this.peer.address} port ${this.peer.port}: ${message}`),
    });
    this.closed = this.driver.closed;
    void this.closed.then((reason) => {
      this.settleLogin(false);
      void this.forwarding.close();
      this.log('debug', 'closed', `${this.peer.address} port ${this.peer.port}: closed${reason ? `: ${reason.message}` : ''}`);
      const error = new ConnectionClosedError(reason ? `the connection was closed: ${reason.message}` : 'the connection was closed', reason);
      for (const channel of this.channels.values()) channel.connectionClosed(error);
      this.channels.clear();
    });
  }

  /** Send DISCONNECT 11 ("by application") and resolve once the connection is over. Idempotent. */
  async close(description = 'closed by the server'): Promise<void> {
    this.driver.disconnect(description);
    await this.closed;
  }

  /** Open a channel towards the client (forwarded-tcpip, auth-agent@openssh.com, a type of our own). */
  openChannel(request: ChannelOpenRequest): SshChannel {
    let id = -1;
    if (!this.engine.isClosed) this.driver.command((engine, now) => (id = engine.openChannel(request, now)));
    if (id < 0) throw new ConnectionClosedError('the connection was closed', null);
    const channel = new SshChannel(id, request.type === 'other' ? request.name : request.type, this.host);
    this.channels.set(id, channel);
    return channel;
  }

  /** @internal Drop the connection without waiting any longer. */
  destroy(): void {
    this.driver.stream.destroy();
  }

  private log(level: LogRecord['level'], event: string, message: string): void {
    this.options.log?.({ level, event, message });
  }

  private decide(decision: Decision): unknown {
    const auth = this.options.auth ?? {};
    const peer = this.peer;
    switch (decision.kind) {
      case 'authMethods':
        return this.methodsFor(decision.username);
      case 'authPassword':
        // A password change (RFC 4252 section 8) is not offered: the new password is refused.
        if (decision.newPassword !== undefined || !auth.password) return false;
        return auth.password({ username: decision.username, password: decision.password, peer });
      case 'authPublicKey': {
        if (!auth.publicKey) return false;
        let certificate: Certificate | undefined;
        if (decision.certificate) {
          try {
            certificate = parseCertificate(decision.certificate);
          } catch {
            return false;
          }
        }
        return auth.publicKey({ username: decision.username, key: decision.key, algorithm: decision.algorithm, ...(certificate ? { certificate } : {}), proven: decision.signed, peer });
      }
      case 'authKeyboardInteractive':
        if (!auth.keyboardInteractive) return false;
        return auth.keyboardInteractive({ username: decision.username, round: decision.round, responses: decision.responses, peer });
      case 'authHostbased':
        return false;
      case 'channelOpen': {
        const request = decision.request;
        const type = request.type === 'other' ? request.name : request.type;
        const custom = this.options.channels?.[type];
        const take = (): SshChannel => {
          const channel = new SshChannel(decision.channel, type, this.host);
          this.channels.set(decision.channel, channel);
          return channel;
        };
        if (custom) {
          const channel = take();
          // A type we serve but refuse this time is prohibited, not unknown (RFC 4254 section 5.1).
          const refused = (): { reason: number; description: string } => (this.channels.delete(decision.channel), { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${type} refused` });
          return Promise.resolve(custom(channel, { request, username: this.username, peer })).then((ok) => (ok ? true : refused()), refused);
        }
        if (request.type === 'session') {
          const max = this.options.maxSessions ?? 10;
          if (this.sessions >= max) {
            this.log('info', 'limit', `${this.peer.address} port ${this.peer.port}: refused a session: ${max} are open (MaxSessions)`);
            return { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `at most ${max} sessions per connection` };
          }
          return this.acceptSession(decision.channel);
        }
        if (this.forwarding.handlesOpen(request)) return this.forwarding.open(request, take);
        return request.type === 'other'
          ? { reason: OpenFailure.UNKNOWN_CHANNEL_TYPE, description: `unknown channel type ${request.name}` }
          : { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${request.type} channels are not offered` };
      }
      case 'channelRequest': {
        const channel = this.channels.get(decision.channel);
        return channel ? channel.decide(decision.request) : false;
      }
      case 'globalRequest':
        return this.forwarding.handlesGlobal(decision.request) ? this.forwarding.global(decision.request) : false;
      default:
        return null;
    }
  }

  private async methodsFor(username: string): Promise<ReadonlyArray<readonly string[]>> {
    const auth = this.options.auth ?? {};
    if (auth.none && (await auth.none(username, this.peer))) return [['none']];
    if (auth.methods) return auth.methods;
    const chains: string[][] = [];
    if (auth.publicKey) chains.push(['publickey']);
    if (auth.password) chains.push(['password']);
    if (auth.keyboardInteractive) chains.push(['keyboard-interactive']);
    // Nothing to log in with: offer publickey so clients get a plain "Permission denied".
    return chains.length > 0 ? chains : [['publickey']];
  }

  private acceptSession(id: number): boolean {
    const channel = new SshChannel(id, 'session', this.host);
    this.channels.set(id, channel);
    this.sessions++;
    void channel.closed.then(() => this.sessions--);
    const env: Record<string, string> = {};
    let pty: ServerPty | null = null;
    let session: ServerSession | null = null;
    // Requests that set the session up may answer later (agent forwarding listens first); the start
    // request waits for them, so the handler sees everything asked for before it.
    let setUp: Promise<unknown> = Promise.resolve();
    const handle = (request: ChannelRequest): boolean | Promise<boolean> => {
      switch (request.type) {
        case 'auth-agent-req@openssh.com': {
          if (session) return false;
          const granted = this.forwarding.agentRequested().then((path) => {
            if (path === null) return false;
            env['SSH_AUTH_SOCK'] = path;
            return true;
          });
          setUp = granted;
          return granted;
        }
        case 'pty-req':
          if (session) return false;
          pty = { term: request.term, cols: request.cols, rows: request.rows, widthPx: request.widthPx, heightPx: request.heightPx, modes: request.modes };
          return true;
        case 'env':
          if (session) return false;
          env[request.name] = request.value;
          return true;
        case 'window-change':
          session?.resized(request.cols, request.rows, request.widthPx, request.heightPx);
          if (!session && pty) pty = { ...pty, cols: request.cols, rows: request.rows, widthPx: request.widthPx, heightPx: request.heightPx };
          return true;
        case 'signal':
          session?.onSignal?.(request.signal);
          return session !== null;
        case 'break':
          session?.onBreak?.(request.lengthMs);
          return session !== null && session.onBreak !== null;
        case 'exec':
        case 'shell':
        case 'subsystem': {
          const handler = (request.type === 'subsystem' ? this.options.subsystems?.[request.name] : undefined) ?? this.options.session;
          if (session || starting || !handler) return false;
          starting = true;
          return setUp.then(() => start(request, handler), () => start(request, handler));
        }
        default:
          return false;
      }
    };
    let starting = false;
    const start = (request: Extract<ChannelRequest, { type: 'exec' | 'shell' | 'subsystem' }>, handler: SessionHandler): boolean => {
      if (!channel.active) return false;
      session = new ServerSession(channel, {
        kind: request.type,
        command: request.type === 'exec' ? request.command : null,
        subsystem: request.type === 'subsystem' ? request.name : null,
        username: this.username,
        env: { ...env },
        pty,
        peer: this.peer,
      });
      this.runSession(handler, session);
      return true;
    };
    channel.onRequest = (request) => void handle(request);
    channel.onRequestDecision = handle;
    void channel.closed.then(() => this.channels.delete(id));
    return true;
  }

  private runSession(handler: NonNullable<ServerOptions['session']>, session: ServerSession): void {
    // After the success reply is queued: the handler's output must follow it.
    queueMicrotask(() => {
      let result: ReturnType<typeof handler>;
      try {
        result = handler(session);
      } catch (error) {
        return this.sessionFailed(session, error);
      }
      Promise.resolve(result).then(
        (status) => (session.hasExited ? undefined : session.exit(typeof status === 'number' ? status : 0)),
        (error: unknown) => this.sessionFailed(session, error),
      );
    });
  }

  private sessionFailed(session: ServerSession, error: unknown): void {
    // The reason stays in our log: a client is not told about the server's internals.
    this.log('warn', 'session', `the session handler for ${session.kind}${session.command !== null ? ` "${session.command}"` : ''} failed: ${(error as Error)?.message ?? String(error)}`);
    if (!session.hasExited) void session.exit(1);
  }

  private route(event: SshEvent): void {
    switch (event.type) {
      case 'authSuccess':
        this.username = event.username;
        this.settleLogin(true);
        this.log('info', 'authenticated', `Accepted ${event.method} for ${event.username} from ${this.peer.address} port ${this.peer.port}`);
        return;
      case 'authFailure':
        return;
      default:
        if ('channel' in event) {
          const channel = this.channels.get(event.channel);
          if (!channel) return;
          channel.handle(event as Parameters<SshChannel['handle']>[0]);
          if (event.type === 'channelClosed') this.channels.delete(event.channel);
        }
    }
  }
}

/** Host keys as the engine takes them: objects as given, paths read (unencrypted files only). */
async function loadHostKeys(runtime: Runtime, given: ServerOptions['hostKeys']): Promise<PrivateKey[]> {
  if (!given || given.length === 0) throw new TypeError('a server needs at least one host key (hostKeys: key objects or key file paths; make one with: ssh-keygen -t ed25519 -N "" -f host_key)');
  const keys: PrivateKey[] = [];
  for (const key of given) keys.push(...(typeof key === 'string' ? await readPrivateKeyFile(runtime, key) : [key]));
  return keys;
}

/** What a server shares between its connections: host keys loaded once, a bad option found at start. */
export interface ServerContext {
  readonly runtime: Runtime;
  readonly options: ServerOptions;
  readonly hostKeys: readonly PrivateKey[];
}

/** Check the options and load the host keys once (a bad algorithm list or key fails here, not per connection). */
export async function prepareServer(runtime: Runtime, options: ServerOptions): Promise<ServerContext> {
  const hostKeys = await loadHostKeys(runtime, options.hostKeys);
  new SshEngine(engineOptions(runtime, options, hostKeys)).disconnect();
  return { runtime, options, hostKeys };
}

/** The engine options every connection of a server shares (what prepareServer checks once). */
function engineOptions(runtime: Runtime, options: ServerOptions, hostKeys: readonly PrivateKey[]): SshEngineOptions {
  return {
    role: 'server',
    now: runtime.now(),
    crypto: options.crypto ?? runtime.crypto,
    random: runtime.random,
    hostKeys,
    ...(options.hostCertificates ? { hostCertificates: options.hostCertificates } : {}),
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
  };
}

/** Serve one connected stream (a socket, a WebSocket's bytes, a reverse-direction dial). */
export function serveStream(context: ServerContext, stream: ByteStream): ServerConnection {
  return new ServerConnection(context.runtime, stream, context.options, context.hostKeys);
}

/** Serve one connected stream with these options (loads the host keys first). */
export async function handleConnection(runtime: Runtime, stream: ByteStream, options: ServerOptions): Promise<ServerConnection> {
  return serveStream(await prepareServer(runtime, options), stream);
}

export interface SshServer {
  readonly address: Listener['address'];
  /** Connections open now. */
  readonly connections: ReadonlySet<ServerConnection>;
  /** Serve a stream set up elsewhere like an accepted one (a WebSocket, a reverse dial). */
  handleConnection(stream: ByteStream): ServerConnection;
  /**
   * Stop listening, send DISCONNECT 11 (by application) to every client and wait for them to go;
   * those still there after `closeTimeout` are dropped. Idempotent.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Listen on TCP and serve every client that connects. */
export async function listen(runtime: Runtime, options: ListenOptions): Promise<SshServer> {
  const context = await prepareServer(runtime, options);
  const maxStartups = typeof options.maxStartups === 'string' ? parseMaxStartups(options.maxStartups) : (options.maxStartups ?? DEFAULT_MAX_STARTUPS);
  const perSource = options.perSourceMaxStartups;
  if (perSource !== undefined && (!Number.isInteger(perSource) || perSource < 1)) throw new TypeError(`perSourceMaxStartups must be a positive integer, not ${perSource}`);
  const connections = new Set<ServerConnection>();
  let unauthenticated = 0;
  const unauthenticatedFrom = new Map<string, number>();
  const adopt = (stream: ByteStream): ServerConnection => {
    const connection = serveStream(context, stream);
    connections.add(connection);
    const from = connection.peer.address;
    unauthenticated++;
    unauthenticatedFrom.set(from, (unauthenticatedFrom.get(from) ?? 0) + 1);
    void connection.loggedIn.then(() => {
      unauthenticated--;
      const left = (unauthenticatedFrom.get(from) ?? 1) - 1;
      if (left > 0) unauthenticatedFrom.set(from, left);
      else unauthenticatedFrom.delete(from);
    });
    void connection.closed.then(() => connections.delete(connection));
    return connection;
  };
  const log = (message: string): void => options.log?.({ level: 'info', event: 'limit', message });
  const admit = (stream: ByteStream): boolean => {
    const from = stream.remoteAddress ?? '';
    if (perSource !== undefined && (unauthenticatedFrom.get(from) ?? 0) >= perSource) {
      log(`refused ${from} port ${stream.remotePort ?? '?'}: ${perSource} connections from it have not logged in yet (PerSourceMaxStartups)`);
      return false;
    }
    if (refusesStartup(maxStartups, unauthenticated, () => unitInterval(runtime.random))) {
      log(`refused ${from} port ${stream.remotePort ?? '?'}: ${unauthenticated} connections have not logged in yet (MaxStartups ${formatMaxStartups(maxStartups)})`);
      return false;
    }
    return true;
  };
  const listener = await runtime.listenTcp(options.host ?? '127.0.0.1', options.port ?? 0, (stream) => {
    if (!admit(stream)) return stream.destroy();
    try {
      adopt(stream);
    } catch (error) {
      options.log?.({ level: 'warn', event: 'accept', message: `refused a connection from ${stream.remoteAddress ?? '?'}: ${(error as Error).message}` });
      stream.destroy();
    }
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await listener.close();
      const all = [...connections];
      const gone = Promise.all(all.map((c) => c.close('server shutting down')));
      const timeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
      let timer: ReturnType<Runtime['createTimer']> | null = null;
      const late = new Promise<void>((resolve) => {
        timer = runtime.createTimer(() => {
          for (const c of connections) c.destroy();
          resolve();
        });
        timer.arm(runtime.now() + timeout);
      });
      await Promise.race([gone, late]);
      (timer as ReturnType<Runtime['createTimer']> | null)?.arm(null);
      await Promise.all(all.map((c) => c.closed));
    })());
  return {
    address: listener.address,
    connections,
    handleConnection: adopt,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export interface ReverseConnectOptions extends ServerOptions {
  /** The SSH client that listens for us (RFC 8071). */
  readonly host: string;
  readonly port: number;
  /** Give up the TCP connect after this many milliseconds (default 30 000). */
  readonly connectTimeout?: number;
  readonly signal?: AbortSignal;
}

/**
 * RFC 8071 reverse direction: dial the SSH client (which listens, e.g. `listenReverse`) and act as
 * the SSH *server* on that connection. Resolves once the TCP connection is up.
 */
export async function connectReverse(runtime: Runtime, options: ReverseConnectOptions): Promise<ServerConnection> {
  const context = await prepareServer(runtime, options);
  const stream = await runtime.connectTcp(options.host, options.port, { timeoutMs: options.connectTimeout ?? 30_000, ...(options.signal ? { signal: options.signal } : {}) });
  return serveStream(context, stream);
}

/** The server calls bound to one runtime: what each adapter's entry hands out as listen / connectReverse. */
export function serverApi(runtime: Runtime): {
  listen(options: ListenOptions): Promise<SshServer>;
  handleConnection(stream: ByteStream, options: ServerOptions): Promise<ServerConnection>;
  connectReverse(options: ReverseConnectOptions): Promise<ServerConnection>;
} {
  return {
    listen: (options) => listen(runtime, options),
    handleConnection: (stream, options) => handleConnection(runtime, stream, options),
    connectReverse: (options) => connectReverse(runtime, options),
  };
}
