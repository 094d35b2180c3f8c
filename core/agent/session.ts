/**
 * The promise API every agent adapter offers (list, sign, add, remove, removeAll, extensions), on
 * top of one primitive the adapter supplies: `request(enqueue)` runs a request on its
 * {@link AgentClient} over whatever socket the runtime has and resolves with the response.
 * Requests and replies are those of draft-ietf-sshm-ssh-agent (OpenSSH PROTOCOL.agent).
 */
import type { PrivateKey } from '../keys/private-key.ts';
import type { PublicKey } from '../keys/public-key.ts';
import { AgentError, type AgentAddOptions, type AgentClient, type AgentIdentity, type AgentResponse, type AgentRsaAlgorithm, type AgentSignature } from './client.ts';

export interface AgentSignOptions {
  /** For RSA keys: `rsa-sha2-512` (default), `rsa-sha2-256`, or the SHA-1 `ssh-rsa`. */
  readonly algorithm?: AgentRsaAlgorithm;
  /** Sign as this certificate (its blob from `list()`), whose public key is `key`. */
  readonly certificate?: Uint8Array;
}

export abstract class AgentSession {
  /** Queue a request on the client (returning its id) and resolve with its response. */
  protected abstract request(enqueue: (client: AgentClient) => number): Promise<AgentResponse>;

  /** The keys the agent holds; keys of types we cannot parse have `key: null`. */
  async list(): Promise<AgentIdentity[]> {
    const response = await this.request((c) => c.requestIdentities());
    if (response.kind !== 'identities') throw unexpected(response);
    return [...response.identities];
  }

  /**
   * Have the agent sign `data` with `key`. The signature is verified before it is returned;
   * `algorithm` in the result says what the agent actually used (compare it with what you asked
   * for: an agent that ignores the RSA flags answers with `ssh-rsa`).
   */
  async sign(key: PublicKey, data: Uint8Array, options: AgentSignOptions = {}): Promise<AgentSignature> {
    const { algorithm, certificate } = options;
    const response = await this.request((c) =>
      c.sign(key, data, { ...(algorithm === undefined ? {} : { algorithm }), ...(certificate === undefined ? {} : { certificate }) }),
    );
    if (response.kind !== 'signature') throw unexpected(response);
    return response.signature;
  }

  /** Give the agent a private key, optionally for a limited time or with confirmation on use. */
  async add(key: PrivateKey, options: AgentAddOptions = {}): Promise<void> {
    const response = await this.request((c) => c.addIdentity(key, options));
    if (response.kind !== 'success') throw unexpected(response);
  }

  /** Remove one key, by its public key or by the raw blob `list()` reported. */
  async remove(key: PublicKey | Uint8Array): Promise<void> {
    const response = await this.request((c) => c.removeIdentity(key));
    if (response.kind !== 'success') throw unexpected(response);
  }

  async removeAll(): Promise<void> {
    const response = await this.request((c) => c.removeAllIdentities());
    if (response.kind !== 'success') throw unexpected(response);
  }

  /** The agent's protocol extensions (the `query` extension), or null if it cannot say. */
  async extensions(): Promise<string[] | null> {
    const response = await this.request((c) => c.queryExtensions());
    if (response.kind !== 'extensions') throw unexpected(response);
    return response.names === null ? null : [...response.names];
  }
}

function unexpected(response: AgentResponse): AgentError {
  return new AgentError('AGENT_PROTOCOL', `internal error: the agent client answered with "${response.kind}"`);
}
