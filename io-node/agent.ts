/**
 * An SSH agent client for Node: core's sans-IO {@link AgentClient} over the agent's Unix socket
 * (draft-ietf-sshm-ssh-agent / RFC 9987; OpenSSH's `ssh-agent` and anything speaking its
 * protocol). The socket path defaults to `SSH_AUTH_SOCK`.
 *
 * The connection is opened on the first request and reopened by a later request after the agent
 * closed it. While no request is outstanding the socket is unref'd, so an `SshAgent` that is never
 * closed does not keep the process alive. Every signature the agent returns is verified against
 * the key and the data before it is handed out (node:crypto by default): a broken or hostile agent
 * cannot slip a bad signature through.
 */
import { AgentSession, type AgentSignOptions } from '../core/agent/session.ts';
import { connect, type Socket } from 'node:net';
import {
  AgentClient,
  AgentError,
  type AgentResponse,
} from '../core/agent/client.ts';
import type { SignatureCrypto } from '../core/keys/signature.ts';
import { nodeCrypto } from './crypto-node.ts';

export { AgentError, type AgentAddOptions, type AgentErrorCode, type AgentIdentity, type AgentRsaAlgorithm, type AgentSignature } from '../core/agent/client.ts';

export interface SshAgentOptions {
  /** The agent's socket. Default: the `SSH_AUTH_SOCK` environment variable. */
  readonly socketPath?: string;
  /** Verifies the agent's signatures. Default: the node:crypto provider. */
  readonly crypto?: SignatureCrypto;
}

export type SshAgentSignOptions = AgentSignOptions;

type Waiter = { readonly resolve: (response: AgentResponse) => void };

export class SshAgent extends AgentSession {
  readonly socketPath: string;
  private readonly crypto: SignatureCrypto;
  private client: AgentClient | null = null;
  private socket: Socket | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private closed = false;

  constructor(options: SshAgentOptions = {}) {
    super();
    const path = options.socketPath ?? process.env['SSH_AUTH_SOCK'];
    if (path === undefined || path === '') {
      throw new AgentError('AGENT_UNAVAILABLE', 'SSH_AUTH_SOCK is not set: start an agent with `eval $(ssh-agent)` or pass a socket path');
    }
    this.socketPath = path;
    this.crypto = options.crypto ?? nodeCrypto;
  }

  /** Close the connection; outstanding requests fail with AGENT_UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.drop(new AgentError('AGENT_UNAVAILABLE', 'the agent connection was closed by this client'));
    if (socket && !socket.closed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- the pump -------------------------------------------------------------------------------

  protected request(enqueue: (client: AgentClient) => number): Promise<AgentResponse> {
    if (this.closed) {
      return Promise.reject(new AgentError('AGENT_UNAVAILABLE', 'this SshAgent was closed; create a new one'));
    }
    // Local misuse (a bad algorithm or lifetime) throws here and rejects the caller's promise.
    const client = this.connection();
    let id: number;
    try {
      id = enqueue(client);
    } catch (err) {
      this.pump(); // nothing pending: lets the socket stop holding the process open
      throw err;
    }
    const answered = new Promise<AgentResponse>((resolve) => this.waiting.set(id, { resolve }));
    this.socket?.ref();
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
    const socket = connect(this.socketPath);
    this.client = client;
    this.socket = socket;
    const current = () => this.client === client;
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => {
      if (!current()) return;
      client.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pump();
    });
    socket.on('end', () => {
      if (!current()) return;
      client.receiveEof();
      this.pump();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!current()) return;
      client.abort(
        new AgentError(
          'AGENT_UNAVAILABLE',
          !connected
            ? `cannot connect to the agent at ${this.socketPath}: ${err.code ?? err.message} (is ssh-agent running and SSH_AUTH_SOCK current?)`
            : `the agent connection failed: ${err.code ?? err.message}`,
          { cause: err },
        ),
      );
      this.pump();
    });
    socket.on('close', () => {
      if (!current()) return;
      client.abort(new AgentError('AGENT_UNAVAILABLE', 'the agent closed the connection'));
      this.pump();
    });
    return client;
  }

  /** Drain the client: bytes to the socket, answers to their waiters. */
  private pump(): void {
    const client = this.client;
    const socket = this.socket;
    if (!client || !socket) return;
    for (let bytes = client.pollTransmit(); bytes !== null; bytes = client.pollTransmit()) {
      if (!socket.destroyed) socket.write(bytes);
    }
    for (let response = client.pollResponse(); response !== null; response = client.pollResponse()) {
      const waiter = this.waiting.get(response.id);
      this.waiting.delete(response.id);
      waiter?.resolve(response);
    }
    if (client.error !== null) {
      // The connection is finished: a later request opens a new one.
      if (!socket.destroyed) socket.destroy();
    } else if (client.pendingCount === 0) {
      socket.unref();
    }
  }

  private drop(error: AgentError): void {
    this.client?.abort(error);
    this.pump();
    this.client = null;
    this.socket = null;
  }
}

