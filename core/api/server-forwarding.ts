/**
 * Forwarding on the server side of the promise API, decided per request (RFC 4254 section 7;
 * OpenSSH PROTOCOL section 2.4 for streamlocal, PROTOCOL.agent for agent forwarding):
 *
 * - direct-tcpip (`ssh -L`, `ssh -W`) and direct-streamlocal@openssh.com: the policy answers
 *   'connect' (we dial the target through the Runtime and pipe), a function (the channel is served
 *   in-process, e.g. an echo port), or false (ADMINISTRATIVELY_PROHIBITED). A target we cannot reach
 *   is CONNECT_FAILED with the reason.
 * - tcpip-forward / streamlocal-forward@openssh.com (`ssh -R`): the policy allows or refuses; allowed
 *   ones listen through the Runtime (port 0: the chosen port goes back in the reply) and each
 *   connection opens forwarded-tcpip / forwarded-streamlocal towards the client. cancel-* closes.
 *   Every listener closes with the connection.
 * - auth-agent-req@openssh.com (`ssh -A`): when allowed, a Unix socket in a private directory relays
 *   each connection to the client's agent over an auth-agent@openssh.com channel, and sessions get
 *   `SSH_AUTH_SOCK` in their environment.
 */
import type { ChannelOpenRequest, GlobalRequest } from '../connection/messages.ts';
import { OpenFailure } from '../connection/connection.ts';
import type { SshChannel } from './channel.ts';
import { pipeChannel } from './forwarding.ts';
import type { ByteStream, Listener, Runtime } from './runtime.ts';

/** What a direct-tcpip / direct-streamlocal policy may answer. */
export type DirectAnswer = 'connect' | false | ((channel: SshChannel) => void);

export interface ServerForwardingPolicy {
  /** direct-tcpip (`ssh -L`, `-W`): default refused. */
  readonly direct?: (request: { readonly host: string; readonly port: number; readonly originatorAddress: string; readonly originatorPort: number; readonly username: string }) => DirectAnswer | Promise<DirectAnswer>;
  /** direct-streamlocal@openssh.com (`ssh -L port:/path`): default refused. */
  readonly directStreamlocal?: (request: { readonly socketPath: string; readonly username: string }) => DirectAnswer | Promise<DirectAnswer>;
  /** tcpip-forward (`ssh -R`): true listens on the address asked for; default refused. */
  readonly remote?: (request: { readonly address: string; readonly port: number; readonly username: string }) => boolean | Promise<boolean>;
  /** streamlocal-forward@openssh.com (`ssh -R /path:…`): default refused. */
  readonly remoteStreamlocal?: (request: { readonly socketPath: string; readonly username: string }) => boolean | Promise<boolean>;
  /** Agent forwarding (`ssh -A`): true, or per user; default refused. */
  readonly agent?: boolean | ((username: string) => boolean | Promise<boolean>);
}

/** What the forwarding code needs from its connection. */
export interface ForwardingConnection {
  readonly runtime: Runtime;
  readonly username: () => string;
  openChannel(request: ChannelOpenRequest): SshChannel;
  log(message: string): void;
}

/** A channel-open answer for the engine: true, or a failure with its reason code. */
type OpenAnswer = true | { readonly reason: number; readonly description: string };

/** The bind address of tcpip-forward as a listen address (RFC 4254 section 7.1 special names). */
function bindAddress(address: string): string {
  if (address === '' || address === '*' || address === '0.0.0.0') return '0.0.0.0';
  if (address === 'localhost') return '127.0.0.1';
  return address;
}

export class ServerForwarding {
  private readonly listeners = new Map<string, Listener>();
  private agentSocket: Promise<string | null> | null = null;
  private closed = false;

  constructor(
    private readonly policy: ServerForwardingPolicy,
    private readonly connection: ForwardingConnection,
  ) {}

  /** Is this a channel type forwarding answers? */
  handlesOpen(request: ChannelOpenRequest): boolean {
    return request.type === 'direct-tcpip' || request.type === 'direct-streamlocal@openssh.com';
  }

  /**
   * Answer a direct-* open. `accept(channel)` makes the SshChannel for the id once we know we take
   * it; `then` runs after the confirmation is queued (data may flow).
   */
  async open(request: ChannelOpenRequest, accept: () => SshChannel): Promise<OpenAnswer> {
    const username = this.connection.username();
    let answer: DirectAnswer = false;
    if (request.type === 'direct-tcpip' && this.policy.direct) {
      answer = await this.policy.direct({ host: request.host, port: request.port, originatorAddress: request.originatorAddress, originatorPort: request.originatorPort, username });
    } else if (request.type === 'direct-streamlocal@openssh.com' && this.policy.directStreamlocal) {
      answer = await this.policy.directStreamlocal({ socketPath: request.socketPath, username });
    }
    const what = request.type === 'direct-tcpip' ? `${request.host} port ${request.port}` : request.type === 'direct-streamlocal@openssh.com' ? request.socketPath : request.type;
    if (answer === false) {
      this.connection.log(`refused ${request.type} to ${what}`);
      return { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${request.type} to ${what} is not allowed` };
    }
    if (typeof answer === 'function') {
      const serve = answer;
      const channel = accept();
      void channel.opened.then(() => serve(channel), () => {});
      return true;
    }
    let stream: ByteStream;
    try {
      const runtime = this.connection.runtime;
      stream = request.type === 'direct-tcpip' ? await runtime.connectTcp(request.host, request.port, { timeoutMs: 30_000 }) : await runtime.connectUnix((request as { socketPath: string }).socketPath);
    } catch (error) {
      this.connection.log(`${request.type} to ${what}: ${(error as Error).message}`);
      return { reason: OpenFailure.CONNECT_FAILED, description: `cannot connect to ${what}: ${(error as Error).message}` };
    }
    const channel = accept();
    void channel.opened.then(() => pipeChannel(stream, channel), () => stream.destroy());
    return true;
  }

  /** Is this a global request forwarding answers? */
  handlesGlobal(request: GlobalRequest): boolean {
    return (
      request.type === 'tcpip-forward' ||
      request.type === 'cancel-tcpip-forward' ||
      request.type === 'streamlocal-forward@openssh.com' ||
      request.type === 'cancel-streamlocal-forward@openssh.com'
    );
  }

  /** Answer a (cancel-)tcpip-forward or (cancel-)streamlocal-forward request. */
  async global(request: GlobalRequest): Promise<boolean | { success: true; port: number }> {
    const username = this.connection.username();
    const runtime = this.connection.runtime;
    switch (request.type) {
      case 'tcpip-forward': {
        if (!this.policy.remote || !(await this.policy.remote({ address: request.address, port: request.port, username }))) {
          this.connection.log(`refused tcpip-forward for ${request.address || '*'} port ${request.port}`);
          return false;
        }
        const address = request.address;
        let chosen = request.port;
        let listener: Listener;
        try {
          listener = await runtime.listenTcp(bindAddress(address), request.port, (stream) =>
            this.forwardIn(stream, { type: 'forwarded-tcpip', address, port: chosen, originatorAddress: stream.remoteAddress ?? '', originatorPort: stream.remotePort ?? 0 }),
          );
        } catch (error) {
          this.connection.log(`tcpip-forward for ${address || '*'} port ${request.port}: ${(error as Error).message}`);
          return false;
        }
        chosen = 'port' in listener.address ? listener.address.port : request.port;
        if (this.closed) return (await listener.close(), false);
        this.listeners.set(`${address}:${chosen}`, listener);
        return request.port === 0 ? { success: true, port: chosen } : true;
      }
      case 'streamlocal-forward@openssh.com': {
        if (!this.policy.remoteStreamlocal || !(await this.policy.remoteStreamlocal({ socketPath: request.socketPath, username }))) {
          this.connection.log(`refused streamlocal-forward for ${request.socketPath}`);
          return false;
        }
        const socketPath = request.socketPath;
        try {
          const listener = await runtime.listenUnix(socketPath, (stream) => this.forwardIn(stream, { type: 'forwarded-streamlocal@openssh.com', socketPath }));
          if (this.closed) return (await listener.close(), false);
          this.listeners.set(socketPath, listener);
          return true;
        } catch (error) {
          this.connection.log(`streamlocal-forward for ${socketPath}: ${(error as Error).message}`);
          return false;
        }
      }
      case 'cancel-tcpip-forward':
        return this.cancel(`${request.address}:${request.port}`);
      case 'cancel-streamlocal-forward@openssh.com':
        return this.cancel(request.socketPath);
      default:
        return false;
    }
  }

  /** auth-agent-req@openssh.com: the socket path sessions get as SSH_AUTH_SOCK, or null when refused. */
  async agentRequested(): Promise<string | null> {
    const allowed = this.policy.agent;
    if (!allowed || (typeof allowed === 'function' && !(await allowed(this.connection.username())))) return null;
    this.agentSocket ??= this.listenForAgent();
    return this.agentSocket;
  }

  /** Close every listener (the connection is over). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => l.close().catch(() => {})));
  }

  private async cancel(key: string): Promise<boolean> {
    const listener = this.listeners.get(key);
    if (!listener) return false;
    this.listeners.delete(key);
    await listener.close();
    return true;
  }

  private forwardIn(stream: ByteStream, request: ChannelOpenRequest): void {
    let channel: SshChannel;
    try {
      channel = this.connection.openChannel(request);
    } catch {
      stream.destroy();
      return;
    }
    pipeChannel(stream, channel);
  }

  private async listenForAgent(): Promise<string | null> {
    const runtime = this.connection.runtime;
    const bytes = runtime.random(8);
    const name = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    // A directory only we can enter, as sshd makes for its agent socket.
    const dir = `${(runtime.env('TMPDIR') ?? '/tmp').replace(/\/+$/, '')}/hermit-agent-${name}`;
    try {
      await runtime.makeDirectory(dir, 0o700);
      const path = `${dir}/agent.sock`;
      const listener = await runtime.listenUnix(path, (stream) => this.forwardIn(stream, { type: 'auth-agent@openssh.com' }));
      if (this.closed) return (await listener.close(), null);
      this.listeners.set(path, listener);
      return path;
    } catch (error) {
      this.connection.log(`agent forwarding: cannot listen in ${dir}: ${(error as Error).message}`);
      return null;
    }
  }
}
