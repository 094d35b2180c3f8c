/**
 * An SSH agent client over the Runtime (draft-ietf-sshm-ssh-agent; OpenSSH's `ssh-agent` and
 * anything speaking its protocol): core's sans-IO {@link AgentClient} on a Unix socket dialed
 * through `runtime.connectUnix`, written once for both runtimes (Node and Deno alike).
 *
 * The connection is opened on the first request and reopened by a later request after the agent
 * closed it. While no request is outstanding the stream does not keep the process alive. Every
 * signature the agent returns is verified against the key and the data before it is handed out,
 * so a broken or hostile agent cannot slip a bad signature through.
 */
import { AgentSession } from '../agent/session.ts';
import { AgentClient, AgentError, type AgentResponse } from '../agent/client.ts';
import type { SignatureCrypto } from '../keys/signature.ts';
import type { AdapterDefaults } from './prompter.ts';
import type { ByteStream, Runtime } from './runtime.ts';

export interface AgentOptions {
  /** Where the socket is dialed (default: the adapter's runtime). */
  readonly runtime?: Runtime;
  /** The agent's socket. Default: the `SSH_AUTH_SOCK` environment variable. */
  readonly socketPath?: string;
  /** Verifies the agent's signatures. Default: the runtime's provider. */
  readonly crypto?: SignatureCrypto;
}

type Waiter = { readonly resolve: (response: AgentResponse) => void };

export class RuntimeAgent extends AgentSession {
  readonly socketPath: string;
  private readonly crypto: SignatureCrypto;
  private client: AgentClient | null = null;
  private stream: ByteStream | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private closed = false;

  /** Filled in by the adapter's subclass (hermit-ssh/node, hermit-ssh/deno). */
  static defaults: AdapterDefaults = {};
  private readonly runtime: Runtime;

  constructor(options: AgentOptions = {}) {
    super();
    const runtime = options.runtime ?? (new.target as typeof RuntimeAgent).defaults.runtime;
    if (!runtime) throw new TypeError('the agent client needs a runtime (hermit-ssh/node and hermit-ssh/deno pass theirs)');
    this.runtime = runtime;
    const path = options.socketPath ?? runtime.env('SSH_AUTH_SOCK');
    if (path === undefined || path === '') {
      throw new AgentError('AGENT_UNAVAILABLE', 'SSH_AUTH_SOCK is not set: start an agent with `eval $(ssh-agent)` or pass a socket path');
    }
    this.socketPath = path;
    this.crypto = options.crypto ?? runtime.crypto;
  }

  /** Close the connection; outstanding requests fail with AGENT_UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    const stream = this.stream;
    this.drop(new AgentError('AGENT_UNAVAILABLE', 'the agent connection was closed by this client'));
    stream?.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  protected request(enqueue: (client: AgentClient) => number): Promise<AgentResponse> {
    if (this.closed) return Promise.reject(new AgentError('AGENT_UNAVAILABLE', 'this agent client was closed; create a new one'));
    const client = this.connection();
    let id: number;
    try {
      // Local misuse (a bad algorithm or lifetime) throws here and rejects the caller's promise.
      id = enqueue(client);
    } catch (err) {
      this.pump();
      throw err;
    }
    const answered = new Promise<AgentResponse>((resolve) => this.waiting.set(id, { resolve }));
    this.stream?.keepAlive?.(true);
    this.pump();
    return answered.then((response) => {
      if (response.kind === 'error') throw response.error;
      return response;
    });
  }

  /** The live client, connecting (again) if there is none or the last one failed. */
  private connection(): AgentClient {
    if (this.client && this.client.error === null) return this.client;
    const client = new AgentClient({ crypto: this.crypto });
    this.client = client;
    this.stream = null;
    const current = (): boolean => this.client === client;
    this.runtime.connectUnix(this.socketPath).then(
      (stream) => {
        if (!current()) return stream.destroy();
        this.stream = stream;
        stream.start({
          data: (bytes) => {
            if (!current()) return;
            client.receive(bytes);
            this.pump();
          },
          end: () => {
            if (!current()) return;
            client.receiveEof();
            this.pump();
          },
          close: (error) => {
            if (!current()) return;
            client.abort(
              new AgentError('AGENT_UNAVAILABLE', error ? `the agent connection failed: ${error.message}` : 'the agent closed the connection', error ? { cause: error } : undefined),
            );
            this.pump();
          },
          drain: () => {},
        });
        this.pump();
      },
      (err: unknown) => {
        if (!current()) return;
        client.abort(
          new AgentError('AGENT_UNAVAILABLE', `cannot connect to the agent at ${this.socketPath}: ${(err as { code?: string }).code ?? (err as Error).message} (is ssh-agent running and SSH_AUTH_SOCK current?)`, {
            cause: err,
          }),
        );
        this.pump();
      },
    );
    return client;
  }

  /** Drain the client: bytes to the stream (once connected), answers to their waiters. */
  private pump(): void {
    const client = this.client;
    if (!client) return;
    const stream = this.stream;
    if (stream) for (let bytes = client.pollTransmit(); bytes !== null; bytes = client.pollTransmit()) stream.write(bytes);
    for (let response = client.pollResponse(); response !== null; response = client.pollResponse()) {
      const waiter = this.waiting.get(response.id);
      this.waiting.delete(response.id);
      waiter?.resolve(response);
    }
    if (client.error !== null) {
      // The connection is finished: a later request opens a new one.
      stream?.destroy();
    } else if (client.pendingCount === 0) {
      stream?.keepAlive?.(false);
    }
  }

  private drop(error: AgentError): void {
    this.client?.abort(error);
    this.pump();
    this.client = null;
    this.stream = null;
  }
}
