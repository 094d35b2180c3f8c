/**
 * An SSH agent client for Deno with the same promise API as io-node's `SshAgent`: core's sans-IO
 * {@link AgentClient} over `Deno.connect({ transport: 'unix' })` to the agent's socket
 * (draft-ietf-sshm-ssh-agent / RFC 9987). The path defaults to `SSH_AUTH_SOCK` (needs
 * `--allow-env`; the socket itself needs `--allow-read --allow-write` for its path).
 *
 * The connection opens on the first request and again after the agent closed it; it is unref'd
 * while idle so a forgotten `SshAgent` does not keep Deno running. Signatures are verified against
 * the key and the data before they are returned (pure crypto by default).
 */
import { AgentSession, type AgentSignOptions } from '../core/agent/session.ts';
import {
  AgentClient,
  AgentError,
  type AgentResponse,
} from '../core/agent/client.ts';
import type { SignatureCrypto } from '../core/keys/signature.ts';

export { AgentError, type AgentAddOptions, type AgentErrorCode, type AgentIdentity, type AgentRsaAlgorithm, type AgentSignature } from '../core/agent/client.ts';

export interface DenoSshAgentOptions {
  /** The agent's socket. Default: the `SSH_AUTH_SOCK` environment variable. */
  readonly socketPath?: string;
  /** Verifies the agent's signatures. Default: the pure provider. */
  readonly crypto?: SignatureCrypto;
}

export type SshAgentSignOptions = AgentSignOptions;

const READ_BUFFER = 16 * 1024;

interface Connection {
  readonly client: AgentClient;
  conn: Deno.UnixConn | null;
  writing: Promise<void>;
}

export class SshAgent extends AgentSession {
  readonly socketPath: string;
  private readonly crypto: SignatureCrypto | undefined;
  private current: Connection | null = null;
  private readonly waiting = new Map<number, (response: AgentResponse) => void>();
  private closed = false;

  constructor(options: DenoSshAgentOptions = {}) {
    super();
    const path = options.socketPath ?? Deno.env.get('SSH_AUTH_SOCK');
    if (path === undefined || path === '') {
      throw new AgentError('AGENT_UNAVAILABLE', 'SSH_AUTH_SOCK is not set: start an agent with `eval $(ssh-agent)` or pass a socket path');
    }
    this.socketPath = path;
    this.crypto = options.crypto;
  }

  /** Close the connection; outstanding requests fail with AGENT_UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    const connection = this.current;
    if (!connection) return;
    connection.client.abort(new AgentError('AGENT_UNAVAILABLE', 'the agent connection was closed by this client'));
    this.pump(connection);
    await connection.writing;
    this.current = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- the pump -------------------------------------------------------------------------------

  protected request(enqueue: (client: AgentClient) => number): Promise<AgentResponse> {
    if (this.closed) return Promise.reject(new AgentError('AGENT_UNAVAILABLE', 'this SshAgent was closed; create a new one'));
    const connection = this.connection();
    let id: number;
    try {
      id = enqueue(connection.client);
    } catch (err) {
      this.pump(connection);
      return Promise.reject(err);
    }
    const answered = new Promise<AgentResponse>((resolve) => this.waiting.set(id, resolve));
    connection.conn?.ref();
    this.pump(connection);
    return answered.then((response) => {
      if (response.kind === 'error') throw response.error;
      return response;
    });
  }

  private connection(): Connection {
    if (this.current && this.current.client.error === null) return this.current;
    const connection: Connection = {
      client: new AgentClient(this.crypto ? { crypto: this.crypto } : {}),
      conn: null,
      writing: Promise.resolve(),
    };
    this.current = connection;
    Deno.connect({ transport: 'unix', path: this.socketPath }).then(
      (conn) => {
        if (connection.client.error !== null) {
          conn.close();
          return;
        }
        connection.conn = conn;
        this.pump(connection);
        void this.readLoop(connection, conn);
      },
      (err: unknown) => {
        connection.client.abort(
          new AgentError(
            'AGENT_UNAVAILABLE',
            `cannot connect to the agent at ${this.socketPath}: ${(err as Error).message} (is ssh-agent running and SSH_AUTH_SOCK current?)`,
            { cause: err },
          ),
        );
        this.pump(connection);
      },
    );
    return connection;
  }

  private async readLoop(connection: Connection, conn: Deno.UnixConn): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER);
    const { client } = connection;
    while (client.error === null) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (err) {
        client.abort(new AgentError('AGENT_UNAVAILABLE', `the agent connection failed: ${(err as Error).message}`, { cause: err }));
        break;
      }
      if (n === null) client.receiveEof();
      else client.receive(buffer.subarray(0, n)); // the client copies what it keeps
      this.pump(connection);
    }
    this.pump(connection);
  }

  /** Drain the client: bytes to the socket (one ordered write chain), answers to their waiters. */
  private pump(connection: Connection): void {
    const { client, conn } = connection;
    if (conn !== null) {
      for (let bytes = client.pollTransmit(); bytes !== null; bytes = client.pollTransmit()) {
        const chunk = bytes;
        connection.writing = connection.writing.then(() => writeAll(conn, chunk)).catch((err: unknown) => {
          client.abort(new AgentError('AGENT_UNAVAILABLE', `cannot write to the agent: ${(err as Error).message}`, { cause: err }));
          this.pump(connection);
        });
      }
    }
    for (let response = client.pollResponse(); response !== null; response = client.pollResponse()) {
      const resolve = this.waiting.get(response.id);
      this.waiting.delete(response.id);
      resolve?.(response);
    }
    if (conn === null) return;
    if (client.error !== null) {
      connection.conn = null;
      // After pending writes, so a close never races a write on the same resource.
      connection.writing = connection.writing.then(() => {
        try {
          conn.close();
        } catch {
          // Already closed by the other side.
        }
      });
    } else if (client.pendingCount === 0) {
      conn.unref();
    }
  }
}

async function writeAll(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) offset += await conn.write(bytes.subarray(offset));
}

