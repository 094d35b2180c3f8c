/**
 * The client half of the promise API (DESIGN.md section 3), written once over a {@link Runtime}:
 * `connect()` dials (or takes a given stream), runs the engine through the {@link ConnectionDriver},
 * checks the host key, authenticates (RFC 4252 publickey / password, RFC 4256 keyboard-interactive)
 * and resolves with an {@link SshConnection} that opens channels (RFC 4254).
 *
 * Adapters pass `views`, which turn the runtime-neutral process and channel into the runtime's
 * streams (Node streams, Web streams); without it the core objects are handed out as they are.
 */
import { SshEngine, type SshEngineOptions, type SshStatistics } from '../engine.ts';
import { SshError } from '../errors.ts';
import { applyAlgorithmOption } from '../transport/algorithms.ts';
import type { Decision, HostKeyDecision, NegotiatedAlgorithms, SshEvent } from '../events.ts';
import type { ClientAuthMethod, ClientAuthOptions } from '../auth/client.ts';
import type { ChannelOpenRequest, ChannelRequest, GlobalRequest } from '../connection/messages.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { publicKeysEqual, type PublicKey } from '../keys/public-key.ts';
import { sign } from '../keys/signature.ts';
import { SshChannel, type ChannelHost } from './channel.ts';
import { loadSshConfig, optionsFromConfig, type ConfigSource } from './config-options.ts';
import { ClientCredentials } from './credentials.ts';
import { readUserCertificate, type CertificateSource } from './key-files.ts';
import { ConnectionDriver, type CloseReason } from './driver.ts';
import { AbortError, ConnectionClosedError, GlobalRequestError, ProcessError, TimeoutError, type RunResult } from './errors.ts';
import { forwardDynamic, forwardLocal, pipeChannel, socksOverChannel, type DynamicForwardOptions, type Forward, type LocalForwardOptions, type RemoteForwardOptions } from './forwarding.ts';
import { SshProcess, type SessionOptions, type SessionStart } from './process.ts';
import type { ByteStream, Listener, Runtime } from './runtime.ts';

/** One line of protocol progress, what `ssh -v` shows. */
export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn';
  /** A stable name: connect, connected, kex, hostKey, extInfo, auth, authenticated, banner, debug, closed. */
  readonly event: string;
  readonly message: string;
}

/** A known_hosts policy (io-node's and io-deno's HostKeyPolicy), or anything that decides like one. */
export interface HostKeyVerifier {
  /** Resolve to accept; reject with an error that explains the refusal (it becomes connect's rejection). */
  verify(question: Pick<HostKeyDecision, 'hostKey' | 'fingerprint' | 'certificate'>): Promise<unknown>;
  /** `^…` host key algorithms to prefer (those of keys already known), or null. Applied unless `algorithms.hostKey` is given. */
  preferredHostKeyAlgorithms?(): string | null;
  /** UpdateHostKeys: which announced keys (blobs) to have the server prove; none to skip. */
  newHostKeys?(blobs: readonly Uint8Array[]): Uint8Array[];
  /** UpdateHostKeys: record keys the server proved. */
  learnHostKeys?(blobs: readonly Uint8Array[]): Promise<void>;
}

/** Something that answers the engine's credential decisions (sign, password, keyboardInteractive, …). */
export interface CredentialSource {
  readonly clientAuth: Omit<ClientAuthOptions, 'username'>;
  handles(decision: Decision): boolean;
  answer(decision: Decision): Promise<unknown>;
  close?(): Promise<void>;
}

export interface KeyboardInteractiveChallenge {
  readonly name: string;
  readonly instruction: string;
  readonly prompts: ReadonlyArray<{ readonly prompt: string; readonly echo: boolean }>;
}

export interface ClientOptions {
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  /** Default: ssh_config's User, else the local user name (as ssh). */
  readonly username?: string;
  /**
   * Keys offered for `publickey` authentication (RFC 4252 section 7): key objects, or paths of key
   * files (`~/` expanded; `FILE.pub` is read first so nothing is decrypted until the server would
   * accept the key, and `FILE-cert.pub` beside it is offered as a certificate first).
   */
  readonly privateKeys?: ReadonlyArray<PrivateKey | string>;
  /**
   * User certificates (ssh_config CertificateFile): certificate objects, blobs, `-cert.pub` lines or
   * paths of such files. Each is offered first, signed by whichever key object, key file or agent
   * key it certifies.
   */
  readonly certificates?: ReadonlyArray<CertificateSource>;
  /** IdentitiesOnly: of the agent's keys, offer only those that are also among `privateKeys`. */
  readonly identitiesOnly?: boolean;
  /** PreferredAuthentications: the methods to try, in this order (publickey, keyboard-interactive, password); others are skipped. */
  readonly preferredAuthentications?: readonly string[];
  /** PubkeyAcceptedAlgorithms: the signature algorithms our keys may sign with (a list, or comma-separated). */
  readonly pubkeyAcceptedAlgorithms?: string | readonly string[];
  /** BatchMode: never ask — the function forms of `passphrase`, `password` and `keyboardInteractive` are not called (string values still apply). */
  readonly batchMode?: boolean;
  /** The passphrase of encrypted key files, or a function asked per file and attempt (null: skip the key). */
  readonly passphrase?: string | ((path: string, attempt: number) => string | null | Promise<string | null>);
  /** Use an ssh-agent's keys (before the files): true for SSH_AUTH_SOCK, or the agent's socket path. */
  readonly agent?: boolean | string;
  /** For `password` authentication (RFC 4252 section 8): the password, or a function asked per attempt (null: stop). */
  readonly password?: string | ((attempt: number, prompt: string) => string | null | Promise<string | null>);
  /** Answers keyboard-interactive rounds (RFC 4256): one string per prompt, or null to give up. */
  readonly keyboardInteractive?: (challenge: KeyboardInteractiveChallenge) => readonly string[] | null | Promise<readonly string[] | null>;
  /** Identities from files, an agent, certificates (the adapters' `readIdentities`): asked before `privateKeys`. */
  readonly credentials?: CredentialSource;
  /**
   * Whether the server's host key is the right one: a callback (false or a rejection refuses), or
   * a known_hosts policy. Required: there is no silent trust.
   */
  readonly hostKey?: ((decision: HostKeyDecision) => boolean | Promise<boolean>) | HostKeyVerifier;
  /**
   * Apply ssh_config(5) for `host` (an alias): `true` reads ~/.ssh/config, a string is a file, or
   * give `{ text }`. HostName, Port, User, IdentityFile, CertificateFile, IdentitiesOnly,
   * IdentityAgent, ProxyJump, the algorithm lists, PubkeyAcceptedAlgorithms,
   * PreferredAuthentications, BatchMode, ServerAlive*, ConnectTimeout, ForwardAgent,
   * Local/Remote/DynamicForward, ExitOnForwardFailure and the known_hosts settings (a HostKeyPolicy
   * when `hostKey` is not given) apply; options given here win over the file.
   */
  readonly config?: ConfigSource;
  /** Algorithm lists, full or with OpenSSH's `+`/`-`/`^` modifiers. */
  readonly algorithms?: SshEngineOptions['algorithms'];
  /** Default: the runtime's provider. */
  readonly crypto?: CryptoProvider;
  readonly rekeyBytes?: number;
  /** Receive window granted per channel (default 2 MiB) and largest data packet accepted (default 32 KiB). */
  readonly channelWindow?: number;
  readonly channelMaxPacket?: number;
  /** Like ssh's ServerAliveInterval / ServerAliveCountMax (milliseconds; 0 disables, the default). */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Give up the TCP connect after this many milliseconds (default 30 000; 0: no limit). */
  readonly connectTimeout?: number;
  /** @deprecated the old name of `connectTimeout`. */
  readonly connectTimeoutMs?: number;
  /** The whole login (key exchange and authentication) must finish within this many milliseconds (default 120 000; 0: no limit). */
  readonly loginTimeout?: number;
  /** Run SSH over this stream instead of dialing (a socket, a channel of another connection, …). */
  readonly sock?: ByteStream;
  /** Forwards to start once logged in, like `ssh -L/-R/-D` (ssh_config's LocalForward, RemoteForward, DynamicForward land here). */
  readonly forwards?: {
    readonly local?: readonly LocalForwardOptions[];
    readonly remote?: readonly RemoteForwardOptions[];
    readonly dynamic?: readonly DynamicForwardOptions[];
  };
  /** ExitOnForwardFailure: a forward of `forwards` that cannot start fails connect (default: logged as a warning, as ssh). */
  readonly exitOnForwardFailure?: boolean;
  /**
   * Serve auth-agent@openssh.com channels from the local agent (`ssh -A`): true uses SSH_AUTH_SOCK,
   * a string is the agent's socket path. Each session asks the server to forward it.
   */
  readonly forwardAgent?: boolean | string;
  /** Hosts to go through first, in order, like `ssh -J a,b`: each hop is reached through a direct-tcpip channel of the one before. */
  readonly jump?: ReadonlyArray<Omit<ClientOptions, 'jump' | 'sock' | 'signal' | 'log'>>;
  /** Gives up connecting (and the login) when it fires. */
  readonly signal?: AbortSignal;
  readonly log?: (record: LogRecord) => void;
}

export interface RunOptions extends SessionOptions {
  /** What the command reads; without it, EOF is sent at once so commands reading stdin finish. */
  readonly input?: string | Uint8Array | AsyncIterable<Uint8Array | string>;
  /** `'utf8'` (default): stdout and stderr as text; null: as bytes. */
  readonly encoding?: 'utf8' | null;
  /** Reject with a ProcessError unless the command exits with status 0. */
  readonly check?: boolean;
  /** Closes the channel and rejects with AbortError when it fires. */
  readonly signal?: AbortSignal;
}

/** Turn core objects into the runtime's own streams. */
export interface ClientViews<P, C> {
  process(process: SshProcess): P;
  channel(channel: SshChannel): C;
}

const identityViews: ClientViews<SshProcess, SshChannel> = { process: (p) => p, channel: (c) => c };

const DEFAULT_CONNECT_TIMEOUT = 30_000;
const DEFAULT_LOGIN_TIMEOUT = 120_000;

/**
 * Connect, verify the host key, authenticate. Resolves when the server accepted the user; rejects
 * with the engine's typed SshError (`AUTH_FAILED`, `PEER_DISCONNECTED`, …), the host key policy's
 * explanation, a ConnectError from the dial, a TimeoutError or an AbortError.
 */
export async function connect<P = SshProcess, C = SshChannel>(runtime: Runtime, given: ClientOptions, views?: ClientViews<P, C>): Promise<SshConnection<P, C>> {
  const configured = given.config ? await applyConfig(runtime, given) : given;
  const options = configured.username === undefined ? { ...configured, username: runtime.userName() } : configured;
  if (options.hostKey === undefined) throw new TypeError('connect: hostKey is required (a callback or a HostKeyPolicy; there is no silent trust), or use config: true for known_hosts');
  const signal = options.signal;
  if (signal?.aborted) throw new AbortError('connecting', signal.reason);
  const hops: SshConnection<SshProcess, SshChannel>[] = [];
  try {
    let stream = options.sock;
    if (stream === undefined && options.jump && options.jump.length > 0) {
      const chain = [...options.jump];
      let previous: SshConnection<SshProcess, SshChannel> | null = null;
      for (const hop of chain) {
        const sock: ByteStream | undefined = previous ? await previous.openStream(hop.host, hop.port ?? 22) : undefined;
        previous = await connect(runtime, { ...(options.config !== undefined ? { config: options.config } : {}), ...hop, ...(sock ? { sock } : {}), ...(signal ? { signal } : {}), ...(options.log ? { log: options.log } : {}) });
        hops.push(previous);
      }
      stream = await previous!.openStream(options.host, options.port ?? 22);
    }
    const connection = await connectOver(runtime, options, stream, views ?? (identityViews as unknown as ClientViews<P, C>));
    if (hops.length > 0) connection.adoptHops(hops);
    await connection.startForwards(options);
    return connection;
  } catch (error) {
    for (const hop of hops.reverse()) await hop.close();
    throw error;
  }
}

export interface ReverseListenOptions<P = SshProcess, C = SshChannel> extends Omit<ClientOptions, 'sock' | 'jump' | 'host' | 'config'> {
  /** Where to listen for servers that call in (default 127.0.0.1; port 0 picks one). */
  readonly bindHost?: string;
  readonly bindPort?: number;
  /** The name the host key is checked under (default: the caller's address). */
  readonly host?: string;
  /** Each server that called in, once we are logged in to it. */
  readonly onConnection: (connection: SshConnection<P, C>) => void;
  /** A server that called in but could not be logged in to (host key, authentication, …). */
  readonly onError?: (error: Error, from: { readonly address?: string; readonly port?: number }) => void;
}

/**
 * The reverse direction of RFC 8071: we listen for TCP connections and act as the SSH *client* on
 * each (the server dialed us, e.g. a device behind NAT). Each login is handed to `onConnection`.
 */
export async function listenReverse<P = SshProcess, C = SshChannel>(
  runtime: Runtime,
  options: ReverseListenOptions<P, C>,
  views?: ClientViews<P, C>,
): Promise<Listener> {
  const { bindHost = '127.0.0.1', bindPort = 0, onConnection, onError, ...client } = options;
  return runtime.listenTcp(bindHost, bindPort, (stream) => {
    const from = { ...(stream.remoteAddress ? { address: stream.remoteAddress } : {}), ...(stream.remotePort !== undefined ? { port: stream.remotePort } : {}) };
    connect(runtime, { ...client, host: client.host ?? stream.remoteAddress ?? 'reverse', sock: stream }, views).then(onConnection, (error: Error) => {
      if (onError) onError(error, from);
      else client.log?.({ level: 'warn', event: 'reverse', message: `a server calling in from ${from.address ?? '?'} could not be logged in to: ${error.message}` });
    });
  });
}

/** The caller's options over what ssh_config says for `options.host`. */
async function applyConfig(runtime: Runtime, options: ClientOptions): Promise<ClientOptions> {
  const resolved = await loadSshConfig(runtime, {
    host: options.host,
    ...(options.username !== undefined ? { user: options.username } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    config: options.config!,
  });
  const derived = optionsFromConfig(runtime, resolved);
  options.log?.({ level: 'debug', event: 'config', message: `Reading configuration data ${resolved.files.join(', ') || '(none)'}; ${options.host} is ${derived.host} port ${derived.port}` });
  for (const what of derived.unsupported) options.log?.({ level: 'warn', event: 'config', message: `ssh_config: ${what} is not applied` });
  // The default identity files are tried only when they exist (ssh is silent about missing ones).
  let files = derived.privateKeys ?? [];
  if (resolved.identityFileDefaulted) {
    const present = await Promise.all(files.map((f) => runtime.readFile(f).then(() => true, () => false)));
    files = files.filter((_, i) => present[i]);
  }
  const { config: _config, hostKey, ...explicit } = options;
  void _config;
  const { unsupported: _unsupported, hostKeyPolicy: _policy, ...settings } = derived;
  void _unsupported;
  void _policy;
  const merged: ClientOptions = {
    ...settings,
    privateKeys: files,
    ...(derived.jump ? { jump: derived.jump.map((h) => ({ ...h, username: h.username ?? derived.username })) } : {}),
    ...explicit,
    host: derived.host,
    ...(options.port === undefined ? { port: derived.port } : {}),
    ...(explicit.algorithms ? { algorithms: { ...derived.algorithms, ...explicit.algorithms } } : {}),
    hostKey: hostKey ?? (await derived.hostKeyPolicy()),
  };
  return merged;
}

async function connectOver<P, C>(runtime: Runtime, options: ClientOptions, given: ByteStream | undefined, views: ClientViews<P, C>): Promise<SshConnection<P, C>> {
  const port = options.port ?? 22;
  const log = options.log;
  const signal = options.signal;
  let stream = given;
  const paths = (options.privateKeys ?? []).filter((k): k is string => typeof k === 'string');
  const keyObjects = (options.privateKeys ?? []).filter((k): k is PrivateKey => typeof k !== 'string');
  const warn = (text: string): void => log?.({ level: 'warn', event: 'credentials', message: text.replace(/\n$/, '') });
  const batch = options.batchMode === true;
  let credentials = options.credentials;
  // Certificates for key objects are paired here; those for files and agent keys by ClientCredentials.
  let certificates: Array<{ source: string; certificate: Uint8Array; key: PublicKey }> = [];
  if (credentials === undefined && (paths.length > 0 || options.agent)) {
    const loaded = await ClientCredentials.load({
      runtime,
      username: options.username ?? runtime.userName(),
      host: options.host,
      identityFiles: paths,
      defaultIdentityFiles: false,
      ...(options.agent === true ? {} : { identityAgent: typeof options.agent === 'string' ? options.agent : null }),
      requireAgent: options.agent !== undefined && options.agent !== false,
      preferredAuthentications: ['publickey'],
      ...(options.identitiesOnly ? { identitiesOnly: true } : {}),
      ...(options.certificates ? { certificateFiles: options.certificates, reportUnmatchedCertificates: false } : {}),
      ...(options.passphrase !== undefined && !(batch && typeof options.passphrase === 'function') ? { passphrase: options.passphrase } : {}),
      ...(batch ? { batchMode: true } : {}),
      stderr: { write: warn },
    });
    certificates = [...loaded.unmatchedCertificates];
    // Only signatures: passwords and keyboard-interactive are answered by the options.
    credentials = { clientAuth: loaded.clientAuth, handles: (d) => d.kind === 'sign', answer: (d) => loaded.answer(d), close: () => loaded.close() };
  } else {
    for (const given of options.certificates ?? []) {
      try {
        const { certificate, source } = await readUserCertificate(runtime, given);
        certificates.push({ source, certificate: certificate.blob, key: certificate.publicKey });
      } catch (err) {
        warn(`hermit: ignoring certificate: ${(err as Error).message}`);
      }
    }
  }
  const paired = certificates.filter((c) => keyObjects.some((k) => publicKeysEqual(k.publicKey, c.key)));
  for (const c of certificates) if (!paired.includes(c)) warn(`hermit: ignoring certificate ${c.source}: none of the keys given holds the key it certifies`);
  // BatchMode: nobody is asked, so the function forms are dropped (stored strings still count).
  const { password, keyboardInteractive, ...rest } = options;
  const resolved: ClientOptions = {
    ...rest,
    ...(credentials ? { credentials } : {}),
    ...(password !== undefined && !(batch && typeof password === 'function') ? { password } : {}),
    ...(keyboardInteractive && !batch ? { keyboardInteractive } : {}),
  };
  if (stream === undefined) {
    log?.({ level: 'debug', event: 'connect', message: `Connecting to ${options.host} port ${port}.` });
    const timeoutMs = options.connectTimeout ?? options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT;
    stream = await runtime.connectTcp(options.host, port, { timeoutMs, ...(signal ? { signal } : {}) });
    log?.({ level: 'debug', event: 'connected', message: 'Connection established.' });
  }
  const connection = new SshConnection<P, C>(runtime, stream, resolved, views, paired);
  const loginTimeout = options.loginTimeout ?? DEFAULT_LOGIN_TIMEOUT;
  const timer = loginTimeout > 0 ? runtime.createTimer(() => connection.abortLogin(new TimeoutError(`logging in to ${options.host} port ${port} took longer than ${loginTimeout} ms`))) : null;
  timer?.arm(runtime.now() + loginTimeout);
  const onAbort = (): void => connection.abortLogin(new AbortError('connecting', signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await connection.authenticated;
    return connection;
  } finally {
    timer?.arm(null);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** An authenticated connection. Every waiting call rejects with ConnectionClosedError once it is over. */
export class SshConnection<P = SshProcess, C = SshChannel> {
  /** Settles when the connection is over, with why (null: we closed it). Never rejects. */
  readonly closed: Promise<CloseReason>;
  /** @internal Settles on authSuccess; `connect()` awaits it. */
  readonly authenticated: Promise<void>;

  private readonly engine: SshEngine;
  private readonly driver: ConnectionDriver;
  private readonly channels = new Map<number, SshChannel>();
  private readonly globalWaiters: Array<{ settle: (reply: { success: boolean; port?: number }) => void }> = [];
  private readonly host: ChannelHost;
  private closeError: ConnectionClosedError | null = null;
  private loginError: Error | null = null;
  private hops: SshConnection<SshProcess, SshChannel>[] = [];
  /** Remote forwards we asked for, by `address:port` or socket path: only these may open forwarded channels. */
  private readonly remoteForwards = new Map<string, RemoteForwardOptions>();
  private readonly agentPath: string | null;
  /** Settles when keys learned through UpdateHostKeys are written (close waits for it). */
  private hostKeyUpdate: Promise<void> = Promise.resolve();
  /** Incoming channel opens (forwarded-tcpip, auth-agent, …) by type; absent types are refused. */
  private readonly openHandlers = new Map<string, (channel: SshChannel, request: ChannelOpenRequest) => boolean | Promise<boolean>>();

  /** @internal Use {@link connect}. */
  constructor(
    private readonly runtime: Runtime,
    stream: ByteStream,
    private readonly options: ClientOptions,
    private readonly views: ClientViews<P, C>,
    /** User certificates for some of the key objects in `privateKeys`, offered before the plain keys. */
    keyCertificates: ReadonlyArray<{ readonly source: string; readonly certificate: Uint8Array; readonly key: PublicKey }> = [],
  ) {
    const verifier = typeof options.hostKey === 'function' ? null : (options.hostKey ?? null);
    const preferred = verifier?.preferredHostKeyAlgorithms?.() ?? null;
    const algorithms = { ...(preferred !== null ? { hostKey: preferred } : {}), ...options.algorithms };
    const keys = (options.privateKeys ?? []).filter((k): k is PrivateKey => typeof k !== 'string');
    const credentials = options.credentials;
    const methods: ClientAuthMethod[] = [...(credentials?.clientAuth.methods ?? [])];
    const add = (m: ClientAuthMethod): void => void (methods.includes(m) || methods.push(m));
    if (keys.length > 0) add('publickey');
    if (options.keyboardInteractive) add('keyboard-interactive');
    if (options.password !== undefined) add('password');
    const preferredMethods = options.preferredAuthentications;
    const ordered = preferredMethods ? preferredMethods.filter((m): m is ClientAuthMethod => methods.includes(m as ClientAuthMethod)).filter((m, i, all) => all.indexOf(m) === i) : methods;
    const publicKeys = [
      ...(credentials?.clientAuth.publicKeys ?? []),
      ...keyCertificates.map((c) => ({ key: c.key, certificate: c.certificate, comment: c.source })),
      ...keys.map((k) => ({ key: k.publicKey, ...(k.comment ? { comment: k.comment } : {}) })),
    ];
    const accepted = options.pubkeyAcceptedAlgorithms;
    // The same names and `+ - ^` rules as HostKeyAlgorithms (ssh_config(5)), over our default list.
    const publicKeyAlgorithms = accepted === undefined ? credentials?.clientAuth.publicKeyAlgorithms : applyAlgorithmOption('hostKey', accepted);
    this.engine = new SshEngine({
      role: 'client',
      now: runtime.now(),
      crypto: options.crypto ?? runtime.crypto,
      random: runtime.random,
      username: options.username ?? runtime.userName(),
      clientAuth: { ...credentials?.clientAuth, methods: ordered, publicKeys, ...(publicKeyAlgorithms ? { publicKeyAlgorithms } : {}) },
      algorithms,
      ...(options.rekeyBytes !== undefined ? { rekeyBytes: options.rekeyBytes } : {}),
      ...(options.channelWindow !== undefined ? { channelWindow: options.channelWindow } : {}),
      ...(options.channelMaxPacket !== undefined ? { channelMaxPacket: options.channelMaxPacket } : {}),
      ...(options.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: options.keepaliveIntervalMs } : {}),
      ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
    });
    const agent = options.forwardAgent;
    this.agentPath = agent === true ? (runtime.env('SSH_AUTH_SOCK') ?? null) : typeof agent === 'string' ? agent : null;
    if (agent === true && this.agentPath === null) throw new TypeError('forwardAgent: SSH_AUTH_SOCK is not set; start an agent (eval $(ssh-agent)) or pass its socket path');
    if (this.agentPath !== null) {
      const path = this.agentPath;
      this.openHandlers.set('auth-agent@openssh.com', (channel) => this.connectLocal({ path }, channel));
    }
    let authOk!: () => void;
    const authenticated = new Promise<void>((resolve) => (authOk = resolve));
    this.driver = new ConnectionDriver(this.engine, stream, runtime, {
      onDecision: (d) => this.decide(d),
      onAnswered: (d, answer) => {
        // A channel the peer opened is usable once our confirmation is queued.
        if (d.kind === 'channelOpen' && answer === true) this.channels.get(d.channel)?.handle({ type: 'channelOpenConfirmed', channel: d.channel });
      },
      onEvent: (e) => {
        if (e.type === 'authSuccess') authOk();
        this.route(e);
      },
    });
    this.host = this.driver.channelHost();
    this.closed = this.driver.closed;
    const ended = this.closed.then(async (reason) => {
      const error = new ConnectionClosedError(reason ? `the connection was closed: ${reason.message}` : 'the connection was closed', reason);
      this.closeError = error;
      for (const channel of [...this.channels.values()]) channel.connectionClosed(error);
      this.channels.clear();
      for (const w of this.globalWaiters.splice(0)) w.settle({ success: false });
      await credentials?.close?.();
      this.log('debug', 'closed', reason ? `Connection closed: ${reason.message}` : 'Connection closed.');
      // Before authentication the caller wants the typed reason itself, not a wrapper.
      throw this.loginError ?? reason ?? new SshError('LOCAL_DISCONNECT', 'the connection was closed before authentication finished');
    });
    this.authenticated = Promise.race([authenticated, ended]);
    // Once authenticated nobody awaits `ended`; its rejection is expected then.
    ended.catch(() => {});
  }

  /** Traffic counters, key exchanges included. */
  get statistics(): SshStatistics {
    return this.engine.statistics;
  }

  /** The algorithms of the current keys. */
  get algorithms(): NegotiatedAlgorithms | null {
    return this.engine.algorithms;
  }

  /** The server's identification line (`SSH-2.0-OpenSSH_9.2p1 …`). */
  get serverVersion(): string | null {
    return this.engine.peerIdentification;
  }

  /** True until the connection is over. */
  get isOpen(): boolean {
    return this.closeError === null && !this.engine.isClosed;
  }

  // ---------------------------------------------------------------- processes

  /** Start a command with streaming stdin, stdout and stderr (with `subsystem: true`, `command` names a subsystem, like `ssh -s`). */
  spawn(command: string, options: SessionOptions & { readonly subsystem?: boolean } = {}): P {
    const start: SessionStart = options.subsystem ? { type: 'subsystem', name: command } : { type: 'exec', command };
    return this.views.process(this.session(start, options));
  }

  /** Start the user's login shell (a pty unless `pty: false`). */
  shell(options: SessionOptions = {}): P {
    return this.views.process(this.session({ type: 'shell' }, { ...options, pty: options.pty ?? true }));
  }

  /** Start a subsystem (`sftp`, …), like `ssh -s`. */
  subsystem(name: string, options: SessionOptions = {}): P {
    return this.views.process(this.session({ type: 'subsystem', name }, options));
  }

  /** Run a command and collect what it prints and how it ended. */
  run(command: string, options: RunOptions & { readonly encoding: null }): Promise<RunResult<Uint8Array>>;
  run(command: string, options?: RunOptions & { readonly encoding?: 'utf8' }): Promise<RunResult<string>>;
  run(command: string, options?: RunOptions): Promise<RunResult<string> | RunResult<Uint8Array>>;
  async run(command: string, options: RunOptions = {}): Promise<RunResult<string> | RunResult<Uint8Array>> {
    const abort = options.signal;
    if (abort?.aborted) throw new AbortError(`running ${JSON.stringify(command)}`, abort.reason);
    const proc = this.session({ type: 'exec', command }, options);
    const onAbort = (): void => void proc.close();
    abort?.addEventListener('abort', onAbort, { once: true });
    try {
      const stdout = collect(proc.stdout);
      const stderr = collect(proc.stderr);
      const feeding = feed(proc, options.input);
      const [out, err, exit] = await Promise.all([stdout, stderr, proc.exit, feeding]).then(([o, e, x]) => [o, e, x] as const);
      if (abort?.aborted) throw new AbortError(`running ${JSON.stringify(command)}`, abort.reason);
      const result: RunResult<string> | RunResult<Uint8Array> =
        options.encoding === null ? { stdout: out, stderr: err, ...exit } : { stdout: decode(out), stderr: decode(err), ...exit };
      if (options.check && (exit.exitStatus !== 0 || exit.exitSignal !== null)) throw new ProcessError<string | Uint8Array>(command, result);
      return result;
    } finally {
      abort?.removeEventListener('abort', onAbort);
    }
  }

  /** The same as `run` with `encoding: null`, under its old name (`stdin` is `input`). */
  exec(command: string, options: Omit<RunOptions, 'encoding'> & { readonly stdin?: RunOptions['input'] } = {}): Promise<RunResult<Uint8Array>> {
    const { stdin, ...rest } = options;
    return this.run(command, { ...rest, ...(stdin !== undefined ? { input: stdin } : {}), encoding: null });
  }

  // ---------------------------------------------------------------- channels

  /** Open a direct-tcpip channel to `host:port` as seen from the server (RFC 4254 section 7.2). */
  async openDirectTcpip(host: string, port: number, originator: { address?: string; port?: number } = {}): Promise<C> {
    const channel = this.openChannel({ type: 'direct-tcpip', host, port, originatorAddress: originator.address ?? '127.0.0.1', originatorPort: originator.port ?? 0 });
    await channel.opened;
    return this.views.channel(channel);
  }

  /** Open a direct-streamlocal@openssh.com channel to a Unix socket on the server. */
  async openDirectStreamlocal(socketPath: string): Promise<C> {
    const channel = this.openChannel({ type: 'direct-streamlocal@openssh.com', socketPath });
    await channel.opened;
    return this.views.channel(channel);
  }

  // ---------------------------------------------------------------- forwarding

  /** `ssh -L`: a local listener (port 0 picks one, see `address`); each connection opens direct-tcpip (or direct-streamlocal with `remotePath`). */
  forwardLocal(options: LocalForwardOptions): Promise<Forward> {
    this.ensureOpen();
    return forwardLocal(this.runtime, this, options);
  }

  /** `ssh -D`: a local SOCKS 4/4a/5 listener; each CONNECT opens direct-tcpip. */
  forwardDynamic(options: DynamicForwardOptions = {}): Promise<Forward> {
    this.ensureOpen();
    return forwardDynamic(this.runtime, this, options);
  }

  /**
   * `ssh -R`: the server listens (tcpip-forward; port 0: it picks one, reported in `address.port`;
   * or streamlocal-forward@openssh.com with `bindPath`) and each connection comes back as a
   * forwarded channel that we connect to the local target, or hand to `onConnection`.
   */
  async forwardRemote(options: RemoteForwardOptions): Promise<Forward> {
    this.ensureOpen();
    if (!options.socks && options.onConnection === undefined && options.localPath === undefined && (options.host === undefined || options.port === undefined)) {
      throw new TypeError('forwardRemote needs a local target (host and port, or localPath), socks: true, or an onConnection handler');
    }
    if (options.socks && options.bindPath !== undefined) throw new TypeError('forwardRemote: socks needs a TCP listener (bindPort), not a socket path');
    this.installForwardedHandlers();
    if (options.bindPath !== undefined) {
      const socketPath = options.bindPath;
      await this.globalRequest({ type: 'streamlocal-forward@openssh.com', socketPath });
      this.remoteForwards.set(socketPath, options);
      return this.remoteForward({ path: socketPath }, socketPath, { type: 'cancel-streamlocal-forward@openssh.com', socketPath });
    }
    const host = options.bindHost ?? 'localhost';
    const asked = options.bindPort ?? 0;
    const reply = await this.globalRequest({ type: 'tcpip-forward', address: host, port: asked });
    const port = asked === 0 ? (reply.port ?? 0) : asked;
    const key = `${host}:${port}`;
    this.remoteForwards.set(key, options);
    return this.remoteForward({ host, port }, key, { type: 'cancel-tcpip-forward', address: host, port });
  }

  private remoteForward(address: Forward['address'], key: string, cancel: GlobalRequest): Forward {
    let closing: Promise<void> | null = null;
    return {
      address,
      close: () =>
        (closing ??= (async () => {
          this.remoteForwards.delete(key);
          if (this.isOpen) await this.globalRequest(cancel).catch(() => {});
        })()),
    };
  }

  private installForwardedHandlers(): void {
    if (this.openHandlers.has('forwarded-tcpip')) return;
    const accept = async (channel: SshChannel, request: ChannelOpenRequest): Promise<boolean> => {
      let forward: RemoteForwardOptions | undefined;
      let origin = { address: '', port: 0 };
      if (request.type === 'forwarded-tcpip') {
        origin = { address: request.originatorAddress, port: request.originatorPort };
        forward = this.remoteForwards.get(`${request.address}:${request.port}`);
        // Servers may name the bound address differently ('' vs '0.0.0.0'): a unique port decides.
        if (!forward) {
          const byPort = [...this.remoteForwards.entries()].filter(([k]) => k.endsWith(`:${request.port}`));
          if (byPort.length === 1) forward = byPort[0]![1];
        }
      } else if (request.type === 'forwarded-streamlocal@openssh.com') forward = this.remoteForwards.get(request.socketPath);
      // A forwarded channel for something we never asked for is refused (as ssh does).
      if (!forward) return false;
      if (forward.accept && !(await forward.accept(origin))) return false;
      if (forward.onConnection) {
        forward.onConnection(channel, origin);
        return true;
      }
      if (forward.socks) {
        socksOverChannel(channel, (host, port) =>
          this.runtime.connectTcp(host, port).catch((error: Error) => {
            this.log('warn', 'forward', `SOCKS request from the server's listener for ${host} port ${port}: ${error.message}`);
            throw error;
          }),
        );
        return true;
      }
      return this.connectLocal(forward.localPath !== undefined ? { path: forward.localPath } : { host: forward.host!, port: forward.port! }, channel);
    };
    this.openHandlers.set('forwarded-tcpip', accept);
    this.openHandlers.set('forwarded-streamlocal@openssh.com', accept);
  }

  /** Dial a local target for an incoming channel; false (a refusal) when it cannot be reached. */
  private async connectLocal(target: { host: string; port: number } | { path: string }, channel: SshChannel): Promise<boolean> {
    let stream: ByteStream;
    try {
      stream = 'path' in target ? await this.runtime.connectUnix(target.path) : await this.runtime.connectTcp(target.host, target.port);
    } catch (error) {
      this.log('warn', 'forward', `cannot connect to ${'path' in target ? target.path : `${target.host} port ${target.port}`}: ${(error as Error).message}`);
      return false;
    }
    pipeChannel(stream, channel);
    return true;
  }

  /** @internal A direct-tcpip channel as a ByteStream (what a jump hop runs over). */
  async openStream(host: string, port: number): Promise<ByteStream> {
    const channel = this.openChannel({ type: 'direct-tcpip', host, port, originatorAddress: '127.0.0.1', originatorPort: 0 });
    await channel.opened;
    return channelByteStream(channel);
  }

  /** Open a channel of any type; `opened` tells when the peer confirmed it. */
  openChannel(request: ChannelOpenRequest): SshChannel {
    this.ensureOpen();
    let id = -1;
    this.driver.command((engine, now) => (id = engine.openChannel(request, now)));
    if (id < 0) throw this.closeError ?? new ConnectionClosedError('the connection was closed', null);
    const channel = new SshChannel(id, request.type === 'other' ? request.name : request.type, this.host);
    this.channels.set(id, channel);
    return channel;
  }

  /** Accept incoming channels of `type` (forwarded-tcpip, auth-agent@openssh.com, …); null stops. */
  onChannelOpen(type: string, handler: ((channel: SshChannel, request: ChannelOpenRequest) => boolean | Promise<boolean>) | null): void {
    if (handler) this.openHandlers.set(type, handler);
    else this.openHandlers.delete(type);
  }

  /** Send a global request (RFC 4254 section 4) and wait for the answer; refusals reject with GlobalRequestError. */
  async globalRequest(request: GlobalRequest): Promise<{ port?: number }> {
    this.ensureOpen();
    const reply = await new Promise<{ success: boolean; port?: number }>((settle) => {
      this.globalWaiters.push({ settle });
      this.driver.command((engine, now) => engine.globalRequest(request, true, now));
    });
    this.ensureOpen();
    if (!reply.success) throw new GlobalRequestError(request.type === 'other' ? request.name : request.type, '');
    return reply.port !== undefined ? { port: reply.port } : {};
  }

  /** Start a new key exchange now (RFC 4253 section 9). */
  rekey(): void {
    this.ensureOpen();
    this.driver.command((engine, now) => engine.rekey(now));
  }

  /** Say goodbye (DISCONNECT 11, by application) and wait until the stream is closed. Idempotent. */
  async close(): Promise<void> {
    for (const forward of this.forwards) await forward.close().catch(() => {});
    this.driver.disconnect('closed by the client');
    await this.closed;
    await this.hostKeyUpdate;
    // Our DISCONNECT travels through the hop's channel: the hop closes once that stream is over,
    // and so on down the chain (every hop but the first runs over the channel of the one before).
    if (this.hops.length > 0) await this.driver.streamClosed;
    const hops = this.hops.reverse();
    for (const [i, hop] of hops.entries()) {
      await hop.close();
      if (i < hops.length - 1) await hop.streamGone();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- internals

  /** @internal connect's timeout or abort before authentication finished. */
  abortLogin(error: Error): void {
    if (this.loginError !== null || this.engine.isClosed) return;
    this.loginError = error;
    this.driver.fail(error);
  }

  /** Forwards started from the `forwards` option (ssh_config's LocalForward, RemoteForward, DynamicForward). */
  readonly forwards: Forward[] = [];

  /** @internal Start `options.forwards`; a failure is a warning unless `exitOnForwardFailure`. */
  async startForwards(options: ClientOptions): Promise<void> {
    const wanted = options.forwards;
    if (!wanted) return;
    const attempts: Array<[string, () => Promise<Forward>]> = [
      ...(wanted.local ?? []).map((f): [string, () => Promise<Forward>] => ['local', () => this.forwardLocal(f)]),
      ...(wanted.remote ?? []).map((f): [string, () => Promise<Forward>] => ['remote', () => this.forwardRemote(f)]),
      ...(wanted.dynamic ?? []).map((f): [string, () => Promise<Forward>] => ['dynamic', () => this.forwardDynamic(f)]),
    ];
    for (const [kind, start] of attempts) {
      try {
        this.forwards.push(await start());
      } catch (error) {
        const message = `${kind} forward could not be started: ${(error as Error).message}`;
        if (options.exitOnForwardFailure) {
          await this.close();
          throw new Error(`${message} (ExitOnForwardFailure)`, { cause: error });
        }
        this.log('warn', 'forward', message);
      }
    }
  }

  /** @internal Settles once the stream under this connection is gone (a jump hop's channel). */
  streamGone(): Promise<void> {
    return this.driver.streamClosed;
  }

  /** @internal The hops of a jump chain close after this connection. */
  adoptHops(hops: SshConnection<SshProcess, SshChannel>[]): void {
    this.hops = hops;
  }

  private session(start: SessionStart, options: SessionOptions): SshProcess {
    const forwardAgent = options.forwardAgent ?? this.agentPath !== null;
    return new SshProcess(this.openChannel({ type: 'session' }), start, { ...options, forwardAgent });
  }

  private ensureOpen(): void {
    if (this.closeError) throw this.closeError;
    if (this.engine.isClosed) throw new ConnectionClosedError('the connection was closed', null);
  }

  private log(level: LogRecord['level'], event: string, message: string): void {
    this.options.log?.({ level, event, message });
  }

  private route(event: SshEvent): void {
    switch (event.type) {
      case 'kexComplete':
        if (event.initial) this.log('debug', 'version', `Remote software version ${this.engine.peerIdentification ?? '?'}`);
        this.log(
          'debug',
          'kex',
          `kex: ${event.algorithms.kex}, host key ${event.algorithms.hostKey}, cipher ${event.algorithms.cipherServerToClient}${event.algorithms.macServerToClient ? ` MAC ${event.algorithms.macServerToClient}` : ''}${event.algorithms.strictKex ? ', strict kex' : ''}${event.initial ? '' : ' (re-key)'}`,
        );
        return;
      case 'extInfo': {
        const sigAlgs = event.extensions.get('server-sig-algs');
        if (sigAlgs) this.log('debug', 'extInfo', `server-sig-algs=<${new TextDecoder().decode(sigAlgs)}>`);
        return;
      }
      case 'authFailure':
        this.log('debug', 'auth', `Authentications that can continue: ${event.methods.join(',')}${event.partialSuccess ? ' (partial success)' : ''}`);
        return;
      case 'authSuccess':
        this.log('info', 'authenticated', `Authenticated to ${this.options.host} using "${event.method}".`);
        return;
      case 'banner':
        this.log('info', 'banner', event.message);
        return;
      case 'debug':
        this.log(event.alwaysDisplay ? 'info' : 'debug', 'debug', `Remote: ${event.message}`);
        return;
      case 'hostKeysAnnounced': {
        // UpdateHostKeys: have the server prove the keys the policy does not know yet.
        const verifier = typeof this.options.hostKey === 'object' ? this.options.hostKey : null;
        const fresh = verifier?.newHostKeys?.(event.keys) ?? [];
        if (fresh.length > 0) {
          this.log('debug', 'hostKeys', `The server has ${fresh.length} host key(s) not in known_hosts; asking it to prove them`);
          this.driver.command((engine, now) => engine.proveHostKeys(fresh, now));
        }
        return;
      }
      case 'hostKeysProved': {
        const verifier = typeof this.options.hostKey === 'object' ? this.options.hostKey : null;
        if (event.keys.length > 0 && verifier?.learnHostKeys) {
          this.hostKeyUpdate = verifier.learnHostKeys(event.keys).catch((error: Error) => this.log('warn', 'hostKeys', `could not record new host keys: ${error.message}`));
        }
        return;
      }
      case 'globalReply':
        this.globalWaiters.shift()?.settle(event.port !== undefined ? { success: event.success, port: event.port } : { success: event.success });
        return;
      default:
        if ('channel' in event) {
          const channel = this.channels.get(event.channel);
          if (!channel) {
            // Data for a channel nobody listens to must still reopen the window.
            if (event.type === 'channelData') this.engine.consumed(event.channel, event.data.length, this.runtime.now());
            return;
          }
          channel.handle(event);
          if (event.type === 'channelClosed' || event.type === 'channelOpenFailed') this.channels.delete(event.channel);
        }
    }
  }

  private decide(decision: Decision): unknown {
    const credentials = this.options.credentials;
    if (credentials?.handles(decision) && (decision.kind !== 'sign' || credentials.clientAuth.publicKeys?.some((k) => publicKeysEqual(k.key, decision.key)))) {
      return credentials.answer(decision);
    }
    switch (decision.kind) {
      case 'hostKey':
        return this.checkHostKey(decision);
      case 'sign': {
        const key = (this.options.privateKeys ?? []).find((k): k is PrivateKey => typeof k !== 'string' && publicKeysEqual(k.publicKey, decision.key as PublicKey));
        return key ? sign(this.options.crypto ?? this.runtime.crypto, key, decision.algorithm, decision.data) : null;
      }
      case 'password': {
        const password = this.options.password;
        if (typeof password === 'function') return password(decision.attempt, decision.prompt);
        // One attempt, like a stored password: asking again would only repeat the same answer.
        return decision.attempt === 1 && password !== undefined ? password : null;
      }
      case 'keyboardInteractive': {
        const handler = this.options.keyboardInteractive;
        return handler ? handler({ name: decision.name, instruction: decision.instruction, prompts: decision.prompts }) : null;
      }
      case 'channelOpen': {
        const type = decision.request.type === 'other' ? decision.request.name : decision.request.type;
        const handler = this.openHandlers.get(type);
        if (!handler) return false;
        const channel = new SshChannel(decision.channel, type, this.host);
        this.channels.set(decision.channel, channel);
        return Promise.resolve(handler(channel, decision.request)).then(
          (ok) => {
            if (!ok) this.channels.delete(decision.channel);
            return ok;
          },
          () => (this.channels.delete(decision.channel), false),
        );
      }
      case 'channelRequest': {
        const channel = this.channels.get(decision.channel);
        return channel ? channel.decide(decision.request as ChannelRequest) : false;
      }
      // Server-initiated global requests (keepalive@openssh.com, …) are refused, as ssh does.
      case 'globalRequest':
        return false;
      default:
        return null;
    }
  }

  private async checkHostKey(decision: HostKeyDecision): Promise<boolean> {
    const check = this.options.hostKey!;
    this.log('debug', 'hostKey', `Server host key: ${decision.algorithm} ${decision.fingerprint}`);
    if (typeof check === 'function') return check(decision);
    try {
      await check.verify(decision);
      return true;
    } catch (error) {
      // The policy's explanation (fingerprints, file:line, the fix) is what connect rejects with.
      this.loginError ??= error instanceof Error ? error : new Error(String(error));
      return false;
    }
  }
}

const decoder = new TextDecoder();

function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

async function collect(reader: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of reader) {
    chunks.push(chunk);
    total += chunk.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

async function feed(proc: SshProcess, input: RunOptions['input']): Promise<void> {
  if (input === undefined) return proc.stdin.end();
  if (typeof input === 'string' || input instanceof Uint8Array) {
    void proc.stdin.write(input);
    return proc.stdin.end();
  }
  try {
    for await (const chunk of input) {
      if (!proc.stdin.writable) break;
      await proc.stdin.write(chunk);
    }
  } catch (error) {
    // A failing source must not leave the command waiting for the rest of its input forever.
    void proc.close();
    throw error;
  }
  return proc.stdin.end();
}

/** A channel as a {@link ByteStream}: what runs a jump hop, or SSH over SSH. */
export function channelByteStream(channel: SshChannel): ByteStream {
  let paused = false;
  let handlers: Parameters<ByteStream['start']>[0] | null = null;
  let pumping = false;
  const pump = (): void => {
    if (!handlers || pumping) return;
    pumping = true;
    try {
      while (!paused) {
        const chunk = channel.reader.take();
        if (chunk === undefined) break;
        if (chunk === null) {
          handlers.end();
          break;
        }
        handlers.data(chunk);
      }
    } catch (error) {
      handlers.close(error instanceof Error ? error : new Error(String(error)));
    } finally {
      pumping = false;
    }
  };
  return {
    start(h) {
      handlers = h;
      channel.reader.onReadable(pump);
      channel.stderr.discard();
      void channel.closed.then(() => {
        pump();
        h.close(null);
      });
      pump();
    },
    write(bytes) {
      void channel.writer.write(bytes).then(() => handlers?.drain());
      return false;
    },
    end() {
      void channel.writer.end();
    },
    destroy() {
      void channel.close();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      pump();
    },
  };
}
