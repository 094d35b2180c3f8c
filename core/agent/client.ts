/**
 * A sans-IO SSH agent client (draft-ietf-sshm-ssh-agent / RFC 9987, "Protocol Overview": the
 * client sends a request and the agent answers it, strictly one after the other). The message
 * codec is in protocol.ts; this file adds request bookkeeping, reply matching and signature
 * verification, and leaves sockets to the adapters (io-node/trust/agent.ts, io-deno/agent.ts).
 */
import { pureCrypto } from '../crypto/pure.ts';
import { fingerprintSha256 } from '../keys/format.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { PublicKey } from '../keys/public-key.ts';
import { signatureAlgorithmsForKey, verifySignature, type SignatureCrypto } from '../keys/signature.ts';
import {
  AgentError,
  AgentFrameDecoder,
  decodeAgentReply,
  decodeQueryContents,
  encodeAddIdentity,
  encodeExtensionRequest,
  encodeRemoveAllIdentities,
  encodeRemoveIdentity,
  encodeRequestIdentities,
  encodeSignRequest,
  frameAgentMessage,
  identityFromBlob,
  signFlagsFor,
  type AgentAddOptions,
  type AgentIdentity,
  type AgentReply,
} from './protocol.ts';

export { AgentError, type AgentErrorCode, type AgentAddOptions, type AgentIdentity, type AgentRsaAlgorithm } from './protocol.ts';

export interface AgentClientOptions {
  /** Verifies the signatures the agent returns. Default: the pure provider. */
  readonly crypto?: SignatureCrypto;
}

export interface AgentSignOptions {
  /**
   * The signature algorithm to ask for. RSA keys: `rsa-sha2-512` (the default), `rsa-sha2-256`
   * or the SHA-1 `ssh-rsa`, sent as sign flags. Other keys have a single algorithm, their type.
   */
  readonly algorithm?: string;
  /**
   * Sign as this certificate (its blob, as `requestIdentities` reported it) rather than as the
   * plain key: the request names the certificate, and the signature is verified with `key`, the
   * certificate's public key. Agents may hold a certificate without its plain key.
   */
  readonly certificate?: Uint8Array;
}

/** A signature the agent made and this client verified against the key and the data. */
export interface AgentSignature {
  /** `string algorithm || string signature`, ready for a USERAUTH_REQUEST. */
  readonly blob: Uint8Array;
  /**
   * The algorithm named inside the blob. For RSA it may differ from the one requested: an agent
   * that ignores the sign flags answers with `ssh-rsa`. Compare before using the signature.
   */
  readonly algorithm: string;
}

export type AgentResponse =
  | { readonly id: number; readonly kind: 'identities'; readonly identities: readonly AgentIdentity[] }
  | { readonly id: number; readonly kind: 'signature'; readonly signature: AgentSignature }
  | { readonly id: number; readonly kind: 'success' }
  /** `names` is null when the agent does not implement the `query` extension. */
  | { readonly id: number; readonly kind: 'extensions'; readonly names: readonly string[] | null }
  | { readonly id: number; readonly kind: 'error'; readonly error: AgentError };

type Pending =
  | { readonly id: number; readonly kind: 'list'; readonly bytes: Uint8Array }
  | { readonly id: number; readonly kind: 'sign'; readonly bytes: Uint8Array; readonly key: PublicKey; readonly data: Uint8Array; readonly describe: string }
  | { readonly id: number; readonly kind: 'add'; readonly bytes: Uint8Array; readonly describe: string }
  | { readonly id: number; readonly kind: 'remove'; readonly bytes: Uint8Array; readonly describe: string }
  | { readonly id: number; readonly kind: 'removeAll'; readonly bytes: Uint8Array }
  | { readonly id: number; readonly kind: 'query'; readonly bytes: Uint8Array };

function describeKey(type: string, blob: Uint8Array): string {
  return `${type} key ${fingerprintSha256(blob)}`;
}

/**
 * One agent connection's protocol state. Its methods are of four kinds:
 *
 * 1. **Inputs** — `receive(bytes)`, `receiveEof()`, `abort(error)`. Never throw. A protocol
 *    violation (malformed, unexpected or unsolicited reply, a signature that does not verify)
 *    leaves the stream's framing untrustworthy, so it is sticky: the request in flight and every
 *    queued or later request fail with AGENT_PROTOCOL and later input is ignored. End of stream
 *    and abort are sticky the same way (AGENT_UNAVAILABLE). A plain SSH_AGENT_FAILURE fails only
 *    its own request (AGENT_FAILURE).
 * 2. **Commands** — `requestIdentities`, `sign`, `addIdentity`, `removeIdentity`,
 *    `removeAllIdentities`, `queryExtensions`: queue a request and return its id. Local misuse
 *    (an algorithm the key cannot make, a bad lifetime, an oversized request) throws SshUsageError (core/errors.ts).
 * 3. **Outputs** — `pollTransmit()` (bytes for the socket), then `pollResponse()` (finished
 *    requests, in request order). Only one request is on the wire at a time: the next is released
 *    by `pollTransmit` once the previous one is answered, because agents need not queue requests
 *    and an answer carries nothing that says which request it belongs to.
 * 4. **Getters** — `error` (why the connection is finished, or null), `pendingCount`.
 */
export class AgentClient {
  private readonly crypto: SignatureCrypto;
  private readonly decoder = new AgentFrameDecoder();
  private readonly queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private readonly responses: AgentResponse[] = [];
  private nextId = 1;
  private failure: AgentError | null = null;

  constructor(options: AgentClientOptions = {}) {
    this.crypto = options.crypto ?? pureCrypto;
  }

  /** Set once the connection is unusable (protocol error, end of stream or abort). */
  get error(): AgentError | null {
    return this.failure;
  }

  /** Requests queued or on the wire, not yet answered. */
  get pendingCount(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  // ---- commands ---------------------------------------------------------------------------

  /** SSH_AGENTC_REQUEST_IDENTITIES: answered with `identities`. */
  requestIdentities(): number {
    return this.enqueue((id) => ({ id, kind: 'list', bytes: encodeRequestIdentities() }));
  }

  /** SSH_AGENTC_SIGN_REQUEST: answered with a verified `signature`. */
  sign(key: PublicKey, data: Uint8Array, options: AgentSignOptions = {}): number {
    const algorithm = options.algorithm ?? signatureAlgorithmsForKey(key.type)[0]!;
    const flags = signFlagsFor(key, algorithm);
    const bytes = encodeSignRequest(options.certificate ?? key.blob, data, flags);
    const copy = data.slice();
    const describe =
      options.certificate === undefined
        ? describeKey(key.type, key.blob)
        : `certificate ${fingerprintSha256(options.certificate)} for ${describeKey(key.type, key.blob)}`;
    return this.enqueue((id) => ({ id, kind: 'sign', bytes, key, data: copy, describe }));
  }

  /** SSH_AGENTC_ADD_IDENTITY / ADD_ID_CONSTRAINED: answered with `success`. */
  addIdentity(key: PrivateKey, options: AgentAddOptions = {}): number {
    const bytes = encodeAddIdentity(key, options);
    return this.enqueue((id) => ({ id, kind: 'add', bytes, describe: describeKey(key.type, key.publicKey.blob) }));
  }

  /** SSH_AGENTC_REMOVE_IDENTITY for a key or a raw blob (e.g. an identity we cannot parse). */
  removeIdentity(key: PublicKey | Uint8Array): number {
    const blob = key instanceof Uint8Array ? key : key.blob;
    const describe = key instanceof Uint8Array ? describeKey(identityFromBlob(blob, '').keyType, blob) : describeKey(key.type, blob);
    const bytes = encodeRemoveIdentity(blob);
    return this.enqueue((id) => ({ id, kind: 'remove', bytes, describe }));
  }

  /** SSH_AGENTC_REMOVE_ALL_IDENTITIES: answered with `success`. */
  removeAllIdentities(): number {
    return this.enqueue((id) => ({ id, kind: 'removeAll', bytes: encodeRemoveAllIdentities() }));
  }

  /** The `query` extension: answered with `extensions` (null names when unsupported). */
  queryExtensions(): number {
    return this.enqueue((id) => ({ id, kind: 'query', bytes: encodeExtensionRequest('query') }));
  }

  private enqueue(make: (id: number) => Pending): number {
    const id = this.nextId++;
    const request = make(id);
    if (this.failure) this.responses.push({ id, kind: 'error', error: this.afterFailure() });
    else this.queue.push(request);
    return id;
  }

  // ---- inputs -----------------------------------------------------------------------------

  /** Bytes from the agent, split anywhere. Never throws. */
  receive(bytes: Uint8Array): void {
    if (this.failure || bytes.length === 0) return;
    try {
      this.decoder.push(bytes);
      for (let message = this.decoder.next(); message !== null; message = this.decoder.next()) {
        this.handle(message);
        if (this.failure) return;
      }
      if (this.decoder.buffered > 0 && this.inFlight === null) {
        throw new AgentError('AGENT_PROTOCOL', 'the agent sent data although no request was waiting for an answer');
      }
    } catch (err) {
      this.fail(err instanceof AgentError ? err : new AgentError('AGENT_PROTOCOL', `agent reply could not be decoded: ${(err as Error).message}`, { cause: err }));
    }
  }

  /** The agent closed the connection. Pending requests fail with AGENT_UNAVAILABLE. */
  receiveEof(): void {
    if (this.failure) return;
    const pending = this.pendingCount;
    const partial = this.decoder.buffered > 0 ? ' in the middle of a reply' : '';
    this.fail(
      new AgentError(
        pending > 0 && partial ? 'AGENT_PROTOCOL' : 'AGENT_UNAVAILABLE',
        pending > 0 ? `the agent closed the connection${partial} before answering` : 'the agent closed the connection',
      ),
    );
  }

  /** The embedder lost the connection (socket error, close): fail everything with `error`. */
  abort(error: AgentError): void {
    if (this.failure) return;
    this.fail(error);
  }

  // ---- outputs ----------------------------------------------------------------------------

  /** The next request's bytes, once the previous request has been answered. */
  pollTransmit(): Uint8Array | null {
    if (this.failure || this.inFlight !== null) return null;
    const next = this.queue.shift();
    if (next === undefined) return null;
    this.inFlight = next;
    const framed = frameAgentMessage(next.bytes);
    if (next.kind === 'add') next.bytes.fill(0); // the private key, now only in `framed`
    return framed;
  }

  pollResponse(): AgentResponse | null {
    return this.responses.shift() ?? null;
  }

  // ---- internals --------------------------------------------------------------------------

  private handle(message: Uint8Array): void {
    const request = this.inFlight;
    if (request === null) {
      throw new AgentError('AGENT_PROTOCOL', `the agent sent message type ${message[0]} although no request was waiting for an answer`);
    }
    // Decoding or interpreting may throw; the request stays in flight so that fail() answers it.
    const response = this.interpret(request, decodeAgentReply(message));
    this.inFlight = null;
    this.responses.push(response);
  }

  private interpret(request: Pending, reply: AgentReply): AgentResponse {
    const { id } = request;
    const unexpected = (what: string) =>
      new AgentError('AGENT_PROTOCOL', `the agent answered ${what} with ${replyName(reply)}`);
    const refused = (message: string): AgentResponse => ({ id, kind: 'error', error: new AgentError('AGENT_FAILURE', message) });

    switch (request.kind) {
      case 'list':
        if (reply.type === 'identities') return { id, kind: 'identities', identities: reply.identities };
        if (reply.type === 'failure') return refused('the agent refused to list its keys (is it locked? ssh-add -X unlocks it)');
        throw unexpected('a request for its keys');
      case 'sign': {
        const what = request.describe;
        if (reply.type === 'failure') {
          return refused(
            `the agent refused to sign with ${what}: it does not hold that key, is locked, or the use was not confirmed (check ssh-add -l)`,
          );
        }
        if (reply.type !== 'signature') throw unexpected(`a sign request for ${what}`);
        if (!signatureAlgorithmsForKey(request.key.type).includes(reply.algorithm)) {
          throw new AgentError('AGENT_PROTOCOL', `the agent signed with algorithm "${reply.algorithm}", which a ${request.key.type} key cannot make (${what})`);
        }
        if (!verifySignature(this.crypto, request.key, reply.algorithm, reply.blob, request.data)) {
          throw new AgentError('AGENT_PROTOCOL', `the agent returned a ${reply.algorithm} signature that does not verify with ${what}`);
        }
        return { id, kind: 'signature', signature: { blob: reply.blob, algorithm: reply.algorithm } };
      }
      case 'add':
      case 'remove':
      case 'removeAll':
        if (reply.type === 'success' && reply.contents.length === 0) return { id, kind: 'success' };
        if (reply.type === 'failure') {
          if (request.kind === 'add') {
            return refused(`the agent refused to add ${request.describe} (it may be locked, or not support this key type or constraint)`);
          }
          if (request.kind === 'remove') return refused(`the agent refused to remove ${request.describe}: it does not hold that key`);
          return refused('the agent refused to remove all keys (is it locked?)');
        }
        throw unexpected(request.kind === 'removeAll' ? 'a request to remove all keys' : `a request to ${request.kind} ${request.describe}`);
      case 'query':
        if (reply.type === 'failure') return { id, kind: 'extensions', names: null };
        if (reply.type === 'extension' && reply.name === 'query') return { id, kind: 'extensions', names: decodeQueryContents(reply.contents) };
        throw unexpected('the query extension');
    }
  }

  private fail(error: AgentError): void {
    this.failure = error;
    const pending = [...(this.inFlight ? [this.inFlight] : []), ...this.queue];
    this.inFlight = null;
    this.queue.length = 0;
    pending.forEach((request, i) => {
      this.responses.push({ id: request.id, kind: 'error', error: i === 0 ? error : this.afterFailure() });
      if (request.kind === 'add') request.bytes.fill(0);
    });
  }

  private afterFailure(): AgentError {
    const cause = this.failure!;
    return new AgentError(cause.code, `the agent connection is no longer usable: ${cause.message}`, { cause });
  }
}

function replyName(reply: AgentReply): string {
  switch (reply.type) {
    case 'failure':
      return `failure (message ${reply.messageType})`;
    case 'success':
      return reply.contents.length > 0 ? `SSH_AGENT_SUCCESS with ${reply.contents.length} unexpected bytes` : 'SSH_AGENT_SUCCESS';
    case 'identities':
      return 'SSH_AGENT_IDENTITIES_ANSWER';
    case 'signature':
      return 'SSH_AGENT_SIGN_RESPONSE';
    case 'extension':
      return `SSH_AGENT_EXTENSION_RESPONSE "${reply.name}"`;
  }
}
