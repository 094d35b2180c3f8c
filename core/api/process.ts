/**
 * A remote command, shell or subsystem on a session channel (RFC 4254 section 6): the start
 * requests (env 6.4, pty-req 6.2, then exec/shell/subsystem 6.5) go out at once and their replies
 * come back in order (section 5.4); stdin flows only once the start request succeeded. `exit`
 * settles when the channel is gone, with exit-status / exit-signal (section 6.10).
 *
 * Runtime-neutral: stdin is a {@link ChannelWriter}, stdout/stderr are {@link ChannelReader}s;
 * io-node and io-deno wrap them in their own streams.
 */
import type { ChannelRequest } from '../connection/messages.ts';
import type { TerminalModes } from '../connection/terminal-modes.ts';
import type { ChannelReader, ChannelWriter, SshChannel } from './channel.ts';
import type { ExitInfo, ExitSignal } from './errors.ts';

export interface PtyOptions {
  /** TERM for the remote side (default `xterm`). */
  readonly term?: string;
  /** Size in characters (default 80 × 24) and, optionally, pixels. */
  readonly cols?: number;
  readonly rows?: number;
  readonly widthPx?: number;
  readonly heightPx?: number;
  /** Terminal modes (RFC 4254 section 8); default none, i.e. the server's defaults. */
  readonly modes?: TerminalModes;
}

export interface SessionOptions {
  /** Environment variables, sent as `env` requests without want-reply, as ssh does: sshd silently drops names its AcceptEnv does not list. */
  readonly env?: Readonly<Record<string, string>>;
  /** Ask for a pseudo-terminal (`true`: xterm, 80 × 24). */
  readonly pty?: PtyOptions | boolean;
  /** Ask the server to forward our agent into this session (auth-agent-req@openssh.com); default: the connection's `forwardAgent`. */
  readonly forwardAgent?: boolean;
}

export type SessionStart = { readonly type: 'exec'; readonly command: string } | { readonly type: 'shell' } | { readonly type: 'subsystem'; readonly name: string };

/** The signal names of RFC 4254 section 6.10 (without `SIG`). */
const SIGNAL_NAME = /^[A-Z][A-Z0-9]*(@[\x21-\x7e]+)?$/;

export class SshProcess {
  readonly channel: SshChannel;
  /** What the process reads; `end()` sends EOF. Writes it can no longer take are dropped. */
  readonly stdin: ChannelWriter;
  /**
   * What it prints. Both share the channel's window: read both (or `discard()` the one you do not
   * want), or the process stalls once the window is full.
   */
  readonly stdout: ChannelReader;
  readonly stderr: ChannelReader;
  /** Resolves when the start request succeeded; rejects with ChannelOpenError, ChannelRequestError or ConnectionClosedError. */
  readonly started: Promise<void>;
  /** Settles when the channel is gone, with how the process ended; rejects like `started` when it never ran. */
  readonly exit: Promise<ExitInfo>;

  private exitStatus: number | null = null;
  private exitSignal: ExitSignal | null = null;

  /** @internal Use the connection's `spawn`, `shell` or `subsystem`. */
  constructor(channel: SshChannel, start: SessionStart, options: SessionOptions) {
    this.channel = channel;
    this.stdin = channel.writer;
    this.stdout = channel.reader;
    this.stderr = channel.stderr;
    channel.onRequest = (request) => {
      if (request.type === 'exit-status') this.exitStatus = request.status;
      else if (request.type === 'exit-signal') this.exitSignal = { signal: request.signal, coreDumped: request.coreDumped, message: request.message };
    };
    this.started = this.begin(start, options);
    channel.gate(this.started.then(() => true, () => false));
    this.started.catch(() => {
      // The server may have opened the channel: close it; its CLOSE ends us.
      void channel.close();
    });
    this.exit = this.started.then(
      async () => {
        await channel.closed;
        // A connection that ended first leaves no trustworthy exit status.
        const lost = channel.connectionError;
        if (lost) throw lost;
        return { exitStatus: this.exitStatus, exitSignal: this.exitSignal };
      },
      async (error: unknown) => {
        await channel.closed;
        throw error;
      },
    );
    // A caller that only uses the streams must not get an unhandled rejection; awaiting still throws.
    this.exit.catch(() => {});
  }

  /**
   * Send a signal (RFC 4254 section 6.9) by name: `TERM`, `INT`, `KILL`, … (a `SIG` prefix is
   * dropped). sshd delivers it to the command's process group; it ignores it for subsystems.
   */
  signal(name: string): void {
    const signal = name.replace(/^SIG/, '');
    if (!SIGNAL_NAME.test(signal)) throw new TypeError(`not a signal name: ${JSON.stringify(name)} (use e.g. "TERM", "INT", "KILL")`);
    this.afterStart({ type: 'signal', signal });
  }

  /** Tell the server the terminal's new size (window-change, section 6.7). */
  resize(cols: number, rows: number, widthPx = 0, heightPx = 0): void {
    for (const [name, v] of [['cols', cols], ['rows', rows], ['widthPx', widthPx], ['heightPx', heightPx]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new TypeError(`resize: ${name} must be a whole number ≥ 0, got ${v}`);
    }
    this.afterStart({ type: 'window-change', cols, rows, widthPx, heightPx });
  }

  /** Send a BREAK (RFC 4335) of `ms` milliseconds; resolves with whether the server performed it. */
  async break(ms = 0): Promise<boolean> {
    if (!Number.isInteger(ms) || ms < 0 || ms > 0xffff_ffff) throw new TypeError(`break: the length must be a whole number of milliseconds ≥ 0, got ${ms}`);
    try {
      await this.started;
    } catch {
      return false;
    }
    return this.channel.request({ type: 'break', lengthMs: ms }, true);
  }

  /** Close the channel (after what was written); `exit` settles once the server closed too. Idempotent. */
  close(): Promise<void> {
    return this.channel.close();
  }

  private afterStart(request: ChannelRequest): void {
    this.started.then(
      () => void this.channel.request(request, false),
      () => {},
    );
  }

  private async begin(start: SessionStart, options: SessionOptions): Promise<void> {
    await this.channel.opened;
    const requests: Array<{ request: ChannelRequest; detail: string }> = [];
    // As ssh: agent forwarding first, then the environment, then the terminal and the command.
    if (options.forwardAgent) void this.channel.request({ type: 'auth-agent-req@openssh.com' }, false);
    for (const [name, value] of Object.entries(options.env ?? {})) void this.channel.request({ type: 'env', name, value }, false);
    if (options.pty) {
      const pty = options.pty === true ? {} : options.pty;
      requests.push({
        request: { type: 'pty-req', term: pty.term ?? 'xterm', cols: pty.cols ?? 80, rows: pty.rows ?? 24, widthPx: pty.widthPx ?? 0, heightPx: pty.heightPx ?? 0, modes: pty.modes ?? {} },
        detail: '',
      });
    }
    requests.push({ request: start, detail: start.type === 'exec' ? start.command : start.type === 'subsystem' ? start.name : '' });
    // All at once; settle all before reporting, so no reply is left rejected and unobserved.
    const results = await Promise.allSettled(requests.map(({ request, detail }) => this.channel.requestOrFail(request, detail)));
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
  }
}

/**
 * A process whose stdin/stdout/stderr are a runtime's own streams (Node streams, Web streams):
 * the adapters' process classes extend it and only build the streams.
 */
export class ProcessView<W, R> {
  /** @internal */
  constructor(
    /** The runtime-neutral process underneath (readers, writer, channel). */
    readonly core: SshProcess,
    /** What the process reads; ending it sends EOF. */
    readonly stdin: W,
    /**
     * What it prints. Both share the channel's window: read both (or cancel the one you do not
     * want), or the process stalls.
     */
    readonly stdout: R,
    readonly stderr: R,
  ) {}

  /** Resolves when the start request succeeded; rejects with ChannelOpenError or ChannelRequestError. */
  get started(): Promise<void> {
    return this.core.started;
  }

  /** Settles when the channel is gone, with the exit status or signal. */
  get exit(): Promise<ExitInfo> {
    return this.core.exit;
  }

  signal(name: string): void {
    this.core.signal(name);
  }

  resize(cols: number, rows: number, widthPx?: number, heightPx?: number): void {
    this.core.resize(cols, rows, widthPx, heightPx);
  }

  break(ms?: number): Promise<boolean> {
    return this.core.break(ms);
  }

  /** Close the channel (after what was written); idempotent. */
  close(): void {
    void this.core.close();
  }
}
