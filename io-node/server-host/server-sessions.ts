/**
 * Sessions for `hermit serve`: the RFC 4254 section 6 session channel made real with local
 * processes — `exec` (6.5, run with the user's shell as `shell -c COMMAND`), `shell` (a login
 * shell, argv[0] prefixed with `-` as login(1) does), `subsystem` (a configured argv, e.g. sftp),
 * `pty-req` / `window-change` (6.2, 6.7; see io-node/server-host/pty.ts for how a pty is had without a
 * native module), `env` (6.4, accepted like OpenSSH's AcceptEnv for LANG, LC_* and HERMIT_*),
 * `signal` (6.9, delivered to the command's process group as sshd does), RFC 4335 `break`, and
 * OpenSSH's `eow@openssh.com` (the client will read no more: stop reading the command's output).
 * Forwarding (io-node/server-host/server-forwarding.ts) is part of the same handler so that an embedder
 * wires one object per connection.
 *
 * Streams carry backpressure both ways: channel data is reported consumed only once the
 * command's stdin accepted it (`write` returned true, or on 'drain'); the command's output stops
 * being read while more than HIGH_WATER bytes wait for the client's window, and resumes on
 * `channelDrain`. When the command is done the channel ends as data, EOF, exit-status (or
 * exit-signal), CLOSE: EOF goes only after every byte of output has left, so the status is the
 * last thing the client hears before CLOSE. Like sshd, a session whose output is held open by a
 * background process stays open until that process lets go.
 *
 * Commands run as the user running the server (there is no privilege switch), with a login-like
 * environment for that account: HOME, USER, LOGNAME, SHELL, PATH, MAIL, SSH_CLIENT and
 * SSH_CONNECTION when the addresses are known, TERM and SSH_TTY with a pty, SSH_ORIGINAL_COMMAND
 * when a forced command (authorized_keys `command=`) replaces what the client asked for. Each
 * command gets its own session (setsid), so `signal` reaches everything it started. When the
 * client goes away a command without a pty runs on, as under sshd (it sees EOF on stdin and EPIPE
 * on its output); with a pty the terminal's hang-up sends SIGHUP. If the client closes the channel
 * first, its exit status still goes out before our CLOSE (see onPeerClosed). Limits: without a pty the core-dumped flag of
 * exit-signal is always false (Node does not report WCOREDUMP); after eow a command writing on may
 * end with ECONNRESET rather than SIGPIPE (see stopOutput); X11 and agent forwarding are refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo, type UserInfo } from 'node:os';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { OpenFailure, type ChannelRequest, type Decision, type SshEvent, type TerminalModes } from '../../core/index.ts';
import { detectPtyBackend, requirePipes, spawnPty, type PtyBackend, type PtyExit, type PtyProcess, type PtySize } from './pty.ts';
import {
  HIGH_WATER,
  channelCommand,
  createForwardingHandler,
  isForwardingDecision,
  queuedFor,
  type ConnectionHandler,
  type ServerConnectionContext,
} from './server-forwarding.ts';

export type { ConnectionHandler, ServerConnectionContext } from './server-forwarding.ts';

export interface SessionHandlerOptions {
  /** Shell for exec and shell requests (default: the account's login shell, else /bin/sh). */
  readonly shell?: string;
  /** Working directory of commands (default: the home directory, or / if it is missing). */
  readonly cwd?: string;
  /** Variables for every command; they override the defaults and what clients send (like sshd's SetEnv). */
  readonly env?: Readonly<Record<string, string>>;
  /** Subsystem name → argv (default: sftp → /usr/lib/openssh/sftp-server when it is installed). */
  readonly subsystems?: Readonly<Record<string, readonly string[]>>;
  /** Client `env` requests accepted, as AcceptEnv patterns with `*` (default LANG, LC_*, HERMIT_*). */
  readonly acceptEnv?: readonly string[];
  /** Serve direct-tcpip, tcpip-forward and the streamlocal variants (default true). */
  readonly allowPortForwarding?: boolean;
  /** Bind remote forwards where the client asks instead of loopback (GatewayPorts clientspecified). */
  readonly gatewayPorts?: boolean;
  /** Which pty helper to use: 'auto' (default: python3, else script), one of them, or false to refuse ptys. */
  readonly pty?: 'auto' | PtyBackend | false;
  /**
   * Starts a session's command (default: a child process with pipes, or under a pty helper when
   * the client asked for a terminal). An embedder can run commands its own way; the property tests
   * use it to drive every order of output end, exit and client EOF/CLOSE.
   */
  readonly launch?: (command: CommandSpec) => RunningCommand;
  readonly log?: (line: string) => void;
}

/** What a session asks to run: `file` with `argv` (argv[0] included), in `cwd`, with `env`. */
export interface CommandSpec {
  readonly file: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Set when the client asked for a terminal (pty-req). */
  readonly pty: { readonly size: PtySize; readonly modes: TerminalModes; readonly backend: PtyBackend } | null;
}

export type SessionHandler = ConnectionHandler;

const DEFAULT_ACCEPT_ENV = ['LANG', 'LC_*', 'HERMIT_*'];
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
/** Debian's sshd defaults: the superuser gets the sbin directories too. */
const USER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/games';
const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly coreDumped: boolean;
  /** Why the command could not be started, for the client's stderr. */
  readonly failure?: string;
}

/** A started command, with or without a pty. */
export interface RunningCommand {
  readonly stdin: Writable;
  readonly outputs: ReadonlyArray<{ readonly stream: Readable; readonly dataType: 0 | 1 }>;
  readonly exited: Promise<ExitInfo>;
  readonly pty: PtyProcess | null;
  signal(name: string): boolean;
  hangup(): void;
}

type PtyRequest = ChannelRequest & { type: 'pty-req' };

/**
 * How long a session whose client already sent CLOSE waits for its command's exit status before
 * closing without it (the command's output has ended, or a pty was hung up, so the exit is near).
 */
export const EXIT_REPORT_WAIT_MS = 10_000;

let account: UserInfo<string> | null = null;
/**
 * The account running the server, looked up once: the look-up opens files (nss), and a server
 * out of descriptors must not fail every new connection — or crash — because of it.
 */
export function serverAccount(): UserInfo<string> {
  account ??= userInfo();
  return account;
}

function envPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

function runPlain(file: string, argv: readonly string[], env: Record<string, string>, cwd: string): RunningCommand {
  const [argv0, ...args] = argv;
  const child: ChildProcess = spawn(file, args, {
    ...(argv0 !== undefined ? { argv0 } : {}),
    env,
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own session and process group, as sshd gives each command: signals reach all of it.
    detached: true,
  });
  requirePipes(child, file);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? { code: null, signal: signal.replace(/^SIG/, ''), coreDumped: false } : { code: code ?? 255, signal: null, coreDumped: false }));
    // Spawn failures (a missing shell or directory): exit 127 and say why, as a shell would.
    child.once('error', (err) => resolve({ code: 127, signal: null, coreDumped: false, failure: `hermit: cannot run ${file}: ${err.message}\n` }));
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const kill = (sig: NodeJS.Signals): boolean => {
    if (child.pid === undefined || ended) return false;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        process.kill(child.pid, sig);
      } catch {
        return false;
      }
    }
    return true;
  };
  return {
    stdin: child.stdin!,
    outputs: [
      { stream: child.stdout!, dataType: 0 },
      { stream: child.stderr!, dataType: 1 },
    ],
    exited,
    pty: null,
    signal: (name) => kill(`SIG${name}` as NodeJS.Signals),
    // No terminal, no hang-up (sshd sends none): the command only loses its stdin.
    hangup: () => child.stdin?.destroy(),
  };
}

function launchCommand(spec: CommandSpec): RunningCommand {
  if (spec.pty) return runPty(spawnPty({ file: spec.file, argv: spec.argv, env: { ...spec.env }, cwd: spec.cwd, size: spec.pty.size, modes: spec.pty.modes, backend: spec.pty.backend }));
  return runPlain(spec.file, spec.argv, { ...spec.env }, spec.cwd);
}

function runPty(pty: PtyProcess): RunningCommand {
  return {
    stdin: pty.input,
    outputs: [{ stream: pty.output, dataType: 0 }],
    exited: pty.exited.then((e: PtyExit) => e),
    pty,
    signal: (name) => pty.signal(name),
    hangup: () => pty.hangup(),
  };
}

interface HandlerState {
  ctx: ServerConnectionContext | null;
  /** forcedCommand from the authentication policy, for requests that come without want-reply. */
  policyForcedCommand: string | undefined;
}

class Session {
  private readonly env: Record<string, string> = {};
  private ptyRequest: PtyRequest | null = null;
  private size: PtySize = { rows: 24, cols: 80, widthPx: 0, heightPx: 0 };
  private cmd: RunningCommand | null = null;
  private openOutputs = 0;
  private outputsPaused = false;
  private stdinOpen = false;
  private stdinPending = 0;
  private peerEof = false;
  private exit: ExitInfo | null = null;
  private eofSent = false;
  private finished = false;
  private awaitingDrain = false;
  /** The channel is gone (CLOSE both ways): nothing more may be sent. */
  private gone = false;
  /** The client sent CLOSE first; the engine holds ours until we report the exit (or give up). */
  private peerClosed = false;
  private reportTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly channel: number,
    private readonly state: HandlerState,
    private readonly config: ResolvedOptions,
  ) {}

  private get ctx(): ServerConnectionContext {
    return this.state.ctx!;
  }

  private command(fn: Parameters<typeof channelCommand>[1]): void {
    if (this.gone || !this.state.ctx) return;
    channelCommand(this.ctx, fn, this.config.log);
  }

  /** A channel request, with or without want-reply; the result is the reply. */
  request(req: ChannelRequest, forcedCommand: string | undefined): boolean {
    switch (req.type) {
      case 'pty-req':
        if (this.cmd || this.ptyRequest || !this.config.ptyBackend) return false;
        this.ptyRequest = req;
        this.size = { rows: req.rows, cols: req.cols, widthPx: req.widthPx, heightPx: req.heightPx };
        return true;
      case 'env':
        if (this.cmd || !this.config.acceptEnv.some((p) => p.test(req.name))) {
          this.config.log(`channel ${this.channel}: env ${req.name} refused`);
          return false;
        }
        this.env[req.name] = req.value;
        return true;
      case 'exec':
      case 'shell':
      case 'subsystem':
        if (this.cmd) return false;
        return this.start(req, forcedCommand);
      case 'window-change':
        if (!this.ptyRequest) return false;
        this.size = { rows: req.rows, cols: req.cols, widthPx: req.widthPx, heightPx: req.heightPx };
        this.cmd?.pty?.resize(this.size);
        return true;
      case 'signal':
        if (!this.cmd || this.exit) return false;
        return this.cmd.signal(req.signal);
      case 'break': {
        // Only a terminal has a line to send a break on (RFC 4335 3: otherwise reply false).
        const pty = this.cmd?.pty;
        return pty && !this.exit ? pty.sendBreak() : false;
      }
      case 'eow@openssh.com':
        this.stopOutput();
        return true;
      default:
        return false;
    }
  }

  private baseEnv(shell: string): Record<string, string> {
    const u = serverAccount();
    const env: Record<string, string> = {
      USER: u.username,
      LOGNAME: u.username,
      HOME: u.homedir,
      SHELL: shell,
      PATH: u.uid === 0 ? ROOT_PATH : USER_PATH,
      MAIL: `/var/mail/${u.username}`,
    };
    const c = this.ctx;
    if (c.remoteAddress !== undefined && c.remotePort !== undefined && c.localPort !== undefined) {
      env['SSH_CLIENT'] = `${c.remoteAddress} ${c.remotePort} ${c.localPort}`;
      if (c.localAddress !== undefined) env['SSH_CONNECTION'] = `${c.remoteAddress} ${c.remotePort} ${c.localAddress} ${c.localPort}`;
    }
    Object.assign(env, this.env);
    if (this.ptyRequest && this.ptyRequest.term !== '') env['TERM'] = this.ptyRequest.term;
    Object.assign(env, this.config.env);
    return env;
  }

  private start(req: ChannelRequest & { type: 'exec' | 'shell' | 'subsystem' }, forcedCommand: string | undefined): boolean {
    const forced = forcedCommand ?? this.state.policyForcedCommand;
    const shell = this.config.shell;
    let subsystemArgv: readonly string[] | undefined;
    if (req.type === 'subsystem') {
      subsystemArgv = this.config.subsystems[req.name];
      if (!subsystemArgv || subsystemArgv.length === 0) {
        this.config.log(`channel ${this.channel}: subsystem ${req.name} refused: not configured`);
        return false;
      }
    }
    const env = this.baseEnv(shell);
    let file: string;
    let argv: string[];
    if (forced !== undefined) {
      const original = req.type === 'exec' ? req.command : subsystemArgv?.join(' ');
      if (original !== undefined) env['SSH_ORIGINAL_COMMAND'] = original;
      file = shell;
      argv = [basename(shell), '-c', forced];
    } else if (req.type === 'exec') {
      file = shell;
      argv = [basename(shell), '-c', req.command];
    } else if (req.type === 'shell') {
      file = shell;
      argv = [`-${basename(shell)}`];
    } else {
      file = subsystemArgv![0]!;
      argv = [...subsystemArgv!];
    }
    const what = forced !== undefined ? `forced command (${req.type})` : req.type === 'exec' ? `exec ${JSON.stringify(req.command)}` : req.type === 'shell' ? 'shell' : `subsystem ${req.name}`;
    try {
      const pty = this.ptyRequest && this.config.ptyBackend ? { size: this.size, modes: this.ptyRequest.modes as TerminalModes, backend: this.config.ptyBackend } : null;
      this.cmd = this.config.launch({ file, argv, env, cwd: this.config.cwd, pty });
    } catch (err) {
      this.config.log(`channel ${this.channel}: ${what} failed: ${(err as Error).message}`);
      this.cmd = null;
      return false;
    }
    this.config.log(`channel ${this.channel}: ${this.ctx.username}: ${what}${this.ptyRequest ? ` with pty ${this.size.cols}x${this.size.rows} (${this.config.ptyBackend})` : ''}`);
    this.wire(this.cmd);
    return true;
  }

  private wire(cmd: RunningCommand): void {
    this.stdinOpen = true;
    const stdin = cmd.stdin;
    stdin.on('drain', () => this.releaseStdin());
    const stdinGone = () => {
      this.stdinOpen = false;
      this.releaseStdin();
    };
    stdin.on('error', stdinGone);
    stdin.on('close', stdinGone);
    // Without a pty, EOF reaches the command as the end of its stdin; with one it is ignored (see pty.ts).
    if (this.peerEof && !cmd.pty) stdin.end();
    for (const { stream, dataType } of cmd.outputs) {
      this.openOutputs++;
      let done = false;
      const ended = () => {
        if (done) return;
        done = true;
        this.openOutputs--;
        this.maybeFinish();
      };
      stream.on('data', (chunk: Buffer) => {
        if (this.gone) return;
        this.command((e, now) => e.write(this.channel, chunk, now, dataType));
        if (!this.outputsPaused && queuedFor(this.ctx, this.channel) > HIGH_WATER) {
          this.outputsPaused = true;
          for (const o of cmd.outputs) o.stream.pause();
        }
      });
      stream.on('end', ended);
      stream.on('close', ended);
      stream.on('error', ended);
    }
    void cmd.exited.then((exit) => {
      this.exit = exit;
      // Node reports a spawn failure before it closes the pipes, so EOF has not gone out yet.
      if (exit.failure !== undefined && !this.eofSent) this.command((e, now) => e.write(this.channel, new TextEncoder().encode(exit.failure), now, 1));
      this.maybeFinish();
    });
  }

  private releaseStdin(): void {
    if (this.stdinPending === 0) return;
    const n = this.stdinPending;
    this.stdinPending = 0;
    this.command((e, now) => e.consumed(this.channel, n, now));
  }

  private stopOutput(): void {
    if (!this.cmd) return;
    // As sshd does on eow: stop reading, so that the command fails when it writes on. Node's stdio
    // pipes are socketpairs, and closing one with unread data resets it: the writer then sees
    // ECONNRESET (usually exit 1) instead of sshd's SIGPIPE, depending on what is still buffered.
    for (const o of this.cmd.outputs) o.stream.destroy();
  }

  /** data → EOF → exit-status/exit-signal → CLOSE, each step once its predecessor is complete. */
  private maybeFinish(): void {
    if (this.gone || this.finished || !this.cmd) return;
    // After the client's CLOSE nothing more is read: only the exit report is still wanted.
    if (this.openOutputs > 0 && !(this.peerClosed && this.exit)) return;
    if (!this.eofSent && !this.peerClosed) {
      if (queuedFor(this.ctx, this.channel) > 0) {
        this.awaitingDrain = true;
        return;
      }
      this.eofSent = true;
      this.command((e, now) => e.eof(this.channel, now));
    }
    const exit = this.exit;
    if (!exit) return;
    this.finished = true;
    this.command((e, now) => {
      if (exit.signal !== null) {
        e.channelRequest(this.channel, { type: 'exit-signal', signal: exit.signal, coreDumped: exit.coreDumped, message: '', language: '' }, false, now);
      } else {
        e.channelRequest(this.channel, { type: 'exit-status', status: exit.code ?? 255 }, false, now);
      }
    });
    this.command((e, now) => e.close(this.channel, now));
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.config.log(`channel ${this.channel}: ${exit.signal !== null ? `killed by signal ${exit.signal}` : `exit status ${exit.code}`}`);
  }

  onEvent(event: SshEvent): void {
    switch (event.type) {
      case 'channelData': {
        const n = event.data.length;
        const stdin = this.cmd?.stdin;
        if (event.dataType !== 0 || !stdin || !this.stdinOpen || this.peerEof) {
          // Nobody will read it (no command yet, stdin closed, or extended data): keep the window open.
          this.command((e, now) => e.consumed(this.channel, n, now));
          return;
        }
        if (stdin.write(event.data) && this.stdinPending === 0) this.command((e, now) => e.consumed(this.channel, n, now));
        else this.stdinPending += n;
        return;
      }
      case 'channelEof':
        this.peerEof = true;
        if (this.cmd && !this.cmd.pty && this.stdinOpen) this.cmd.stdin.end();
        return;
      case 'channelDrain':
        if (this.outputsPaused && this.cmd) {
          this.outputsPaused = false;
          for (const o of this.cmd.outputs) o.stream.resume();
        }
        if (this.awaitingDrain) {
          this.awaitingDrain = false;
          this.maybeFinish();
        }
        return;
      case 'channelRequest':
        this.request(event.request, undefined);
        return;
      case 'channelPeerClosed':
        return this.onPeerClosed();
      case 'channelClosed':
        this.gone = true;
        this.teardown();
        return;
      default:
        return;
    }
  }

  /**
   * The client closed while we owe it the exit report. If the command's output has ended its exit
   * is near: wait for it (bounded) and report. If it is still running, do what sshd does: with a
   * pty hang the terminal up and report the exit that follows; without one let go of the command,
   * which runs on and sees EOF / EPIPE on its pipes, and close now.
   */
  private onPeerClosed(): void {
    this.peerClosed = true;
    const cmd = this.cmd;
    if (!cmd) return this.giveUpReport();
    if (this.openOutputs > 0 && !this.exit) {
      if (!cmd.pty) return this.giveUpReport();
      cmd.hangup();
    }
    this.reportTimer = setTimeout(() => this.giveUpReport(), EXIT_REPORT_WAIT_MS);
    this.reportTimer.unref();
    this.maybeFinish();
  }

  private giveUpReport(): void {
    if (this.finished || this.gone) return;
    this.finished = true;
    this.config.log(`channel ${this.channel}: closed by the client before the command's exit`);
    this.command((e, now) => e.close(this.channel, now));
  }

  /**
   * The channel or the connection is gone. A command still running keeps running without a pty
   * (as under sshd: it sees EOF on stdin and EPIPE when it writes); with a pty the terminal hangs
   * up, which sends it SIGHUP.
   */
  teardown(): void {
    this.gone = true;
    if (this.reportTimer) clearTimeout(this.reportTimer);
    const cmd = this.cmd;
    if (!cmd) return;
    if (!this.exit && cmd.pty) cmd.hangup();
    for (const o of cmd.outputs) o.stream.destroy();
    cmd.stdin.destroy();
  }
}

interface ResolvedOptions {
  readonly shell: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly subsystems: Readonly<Record<string, readonly string[]>>;
  readonly acceptEnv: readonly RegExp[];
  readonly ptyBackend: PtyBackend | null;
  readonly launch: (command: CommandSpec) => RunningCommand;
  readonly log: (line: string) => void;
}

function resolveOptions(options: SessionHandlerOptions): ResolvedOptions {
  const u = serverAccount();
  const home = u.homedir && existsSync(u.homedir) ? u.homedir : '/';
  const pty = options.pty ?? 'auto';
  return {
    shell: options.shell ?? (u.shell || '/bin/sh'),
    cwd: options.cwd ?? home,
    env: options.env ?? {},
    subsystems: options.subsystems ?? (existsSync(SFTP_SERVER) ? { sftp: [SFTP_SERVER] } : {}),
    acceptEnv: (options.acceptEnv ?? DEFAULT_ACCEPT_ENV).map(envPattern),
    ptyBackend: pty === false ? null : detectPtyBackend(pty === 'auto' ? undefined : pty),
    launch: options.launch ?? launchCommand,
    log: options.log ?? (() => {}),
  };
}

/**
 * The session and forwarding handler of ONE connection: create one per accepted connection and
 * feed it every decision (it answers channel opens, channel requests and forwarding global
 * requests, and returns undefined for everything else) and every event (the `closed` event
 * releases everything; `close()` does the same explicitly).
 */
export function createSessionHandler(options: SessionHandlerOptions = {}): SessionHandler {
  const config = resolveOptions(options);
  const state: HandlerState = { ctx: null, policyForcedCommand: undefined };
  const sessions = new Map<number, Session>();
  const forwarding = options.allowPortForwarding === false ? null : createForwardingHandler({ log: config.log, ...(options.gatewayPorts !== undefined ? { gatewayPorts: options.gatewayPorts } : {}) });
  let closed = false;

  const handler: SessionHandler = {
    onDecision(decision: Decision, ctx: ServerConnectionContext): unknown {
      state.ctx = ctx;
      if (closed) return undefined;
      switch (decision.kind) {
        case 'channelOpen':
          if (decision.request.type === 'session') {
            sessions.set(decision.channel, new Session(decision.channel, state, config));
            return true;
          }
          if (isForwardingDecision(decision)) {
            return forwarding ? forwarding.onDecision(decision, ctx) : { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: 'port forwarding is disabled' };
          }
          return undefined;
        case 'channelRequest': {
          const session = sessions.get(decision.channel);
          if (session) return session.request(decision.request, decision.forcedCommand);
          return forwarding?.onDecision(decision, ctx) ?? false;
        }
        case 'globalRequest':
          if (isForwardingDecision(decision)) return forwarding ? forwarding.onDecision(decision, ctx) : false;
          return undefined;
        default:
          return undefined;
      }
    },

    onEvent(event: SshEvent, ctx: ServerConnectionContext): void {
      state.ctx = ctx;
      if (event.type === 'closed') return handler.close();
      if (event.type === 'authSuccess') {
        const forced = (event.policy as { forcedCommand?: unknown } | undefined)?.forcedCommand;
        state.policyForcedCommand = typeof forced === 'string' ? forced : undefined;
        return;
      }
      if ('channel' in event) {
        const session = sessions.get(event.channel);
        if (session) {
          session.onEvent(event);
          if (event.type === 'channelClosed') sessions.delete(event.channel);
          return;
        }
      }
      forwarding?.onEvent(event, ctx);
    },

    close(): void {
      if (closed) return;
      closed = true;
      for (const s of sessions.values()) s.teardown();
      sessions.clear();
      forwarding?.close();
    },
  };
  return handler;
}
