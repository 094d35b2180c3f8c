/**
 * The SSH agent protocol codec: draft-ietf-sshm-ssh-agent (published as RFC 9987) plus OpenSSH's
 * PROTOCOL.agent. Pure functions and one streaming frame decoder; no I/O.
 *
 * - Framing (Protocol Overview): every message is `uint32 length || byte type || contents`, the
 *   length counting the type byte and contents. We refuse replies over 256 KiB, the limit OpenSSH's
 *   own client and agent apply (authfd.c MAX_AGENT_REPLY_LEN, ssh-agent.c AGENT_MAX_LEN), and more
 *   than 2048 identities (authfd.c MAX_AGENT_IDENTITIES), so an agent cannot make us allocate
 *   without bound.
 * - Generic responses (section 5.1): SSH_AGENT_SUCCESS (6) and SSH_AGENT_FAILURE (5). OpenSSH also
 *   treats SSH_AGENT_EXTENSION_FAILURE (28), the old SSH2_AGENT_FAILURE (30) and ssh.com's
 *   SSH_COM_AGENT2_FAILURE (102) as failure, and so do we.
 * - Adding keys (section 5.2): SSH_AGENTC_ADD_IDENTITY (17) and SSH_AGENTC_ADD_ID_CONSTRAINED (25),
 *   `string type || key contents || string comment [|| constraint...]`, the contents per key type
 *   as in sections 5.2.2 (ECDSA: `string curve || string Q || mpint d`), 5.2.3 (EdDSA:
 *   `string ENC(A) || string k || ENC(A)`) and 5.2.4 (RSA: `mpint n, e, d, iqmp, p, q`). The same
 *   field encodings appear in OpenSSH PROTOCOL.key, which core/keys/private-key.ts reads.
 * - Key constraints ("Key Constraints" of the same section): SSH_AGENT_CONSTRAIN_LIFETIME (1,
 *   `uint32 seconds`) and SSH_AGENT_CONSTRAIN_CONFIRM (2).
 * - Removing keys: SSH_AGENTC_REMOVE_IDENTITY (18, `string key blob`) and
 *   SSH_AGENTC_REMOVE_ALL_IDENTITIES (19).
 * - Listing keys: SSH_AGENTC_REQUEST_IDENTITIES (11) → SSH_AGENT_IDENTITIES_ANSWER (12),
 *   `uint32 nkeys || (string key blob || string comment) * nkeys`.
 * - Private key operations: SSH_AGENTC_SIGN_REQUEST (13, `string key blob || string data ||
 *   uint32 flags`) → SSH_AGENT_SIGN_RESPONSE (14, `string signature`), where the signature is the
 *   usual `string algorithm || string signature` blob. Flags SSH_AGENT_RSA_SHA2_256 (2) and
 *   SSH_AGENT_RSA_SHA2_512 (4) select the RFC 8332 algorithms for RSA keys; without them an RSA
 *   key signs with SHA-1 (`ssh-rsa`).
 * - Extensions: SSH_AGENTC_EXTENSION (27, `string name || contents`). The `query` extension is
 *   answered with SSH_AGENT_EXTENSION_RESPONSE (29), `string "query" || string[] names`; agents
 *   that do not know it (OpenSSH before 10.3) answer with a failure.
 *
 * Everything the agent sends is checked: malformed replies raise {@link AgentError} with code
 * AGENT_PROTOCOL, never anything else.
 */
import { SshUsageError } from '../errors.ts';
import { fingerprintSha256 } from '../keys/format.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { ECDSA_CURVES, parsePublicKeyBlob, type PublicKey } from '../keys/public-key.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';

/** Message numbers (draft-ietf-sshm-ssh-agent "Message numbers"; OpenSSH authfd.h). */
export const AgentMessage = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  ADD_IDENTITY: 17,
  REMOVE_IDENTITY: 18,
  REMOVE_ALL_IDENTITIES: 19,
  ADD_ID_CONSTRAINED: 25,
  EXTENSION: 27,
  EXTENSION_FAILURE: 28,
  EXTENSION_RESPONSE: 29,
} as const;

/** Failure codes other agents send in place of SSH_AGENT_FAILURE; OpenSSH accepts them too. */
const LEGACY_FAILURES: readonly number[] = [30, 102];

/** Signature request flags (draft-ietf-sshm-ssh-agent "Signature flags"). */
export const AgentSignFlags = {
  RSA_SHA2_256: 0x02,
  RSA_SHA2_512: 0x04,
} as const;

/** Key constraint identifiers (draft-ietf-sshm-ssh-agent "Key Constraints"). */
export const AgentConstraint = {
  LIFETIME: 1,
  CONFIRM: 2,
  EXTENSION: 255,
} as const;

/** Largest agent message we send or accept, length prefix excluded (OpenSSH's limit). */
export const MAX_AGENT_MESSAGE_LENGTH = 256 * 1024;
/** Most identities we accept in one IDENTITIES_ANSWER (OpenSSH's limit). */
export const MAX_AGENT_IDENTITIES = 2048;
/** Most names we accept in a `query` answer; real agents know a handful. */
export const MAX_AGENT_EXTENSIONS = 256;

export type AgentErrorCode =
  /** The agent answered "failure": it does not hold the key, refused, or was not confirmed. */
  | 'AGENT_FAILURE'
  /** The agent sent something that is not a valid answer (or a signature that does not verify). */
  | 'AGENT_PROTOCOL'
  /** No agent to talk to: no socket path, the socket cannot be reached, or it closed. */
  | 'AGENT_UNAVAILABLE';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

function protocol(message: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_PROTOCOL', message, cause === undefined ? undefined : { cause });
}

// ---- framing --------------------------------------------------------------------------------

/** Prefix a message (type byte and contents) with its uint32 length. */
export function frameAgentMessage(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) throw new SshUsageError('an agent message needs at least its type byte');
  if (payload.length > MAX_AGENT_MESSAGE_LENGTH) {
    throw new SshUsageError(`agent message of ${payload.length} bytes exceeds the protocol limit of ${MAX_AGENT_MESSAGE_LENGTH}`);
  }
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/**
 * Reassembles length-prefixed messages from a byte stream split anywhere. `next()` returns each
 * complete message (type byte and contents, a fresh copy) and throws AGENT_PROTOCOL as soon as a
 * length prefix is zero or above the limit, before any of that message is buffered; so once the
 * decoded messages are drained, at most one partial message (≤ limit + 4 bytes) stays buffered.
 */
export class AgentFrameDecoder {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;

  constructor(private readonly maxLength = MAX_AGENT_MESSAGE_LENGTH) {}

  /** Bytes received and not yet returned as a message. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.end + bytes.length > this.buf.length) {
      const live = this.end - this.start;
      const needed = live + bytes.length;
      // Compact in place when the live bytes plus the new chunk fit; grow otherwise.
      if (needed <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(needed, this.buf.length * 2, 256));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  next(): Uint8Array | null {
    const available = this.end - this.start;
    if (available < 4) return null;
    const b = this.buf;
    const s = this.start;
    const length = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!) >>> 0;
    if (length === 0) throw protocol('the agent sent an empty message (length 0, no message type)');
    if (length > this.maxLength) {
      throw protocol(`the agent announced a ${length}-byte message; the limit is ${this.maxLength} bytes`);
    }
    if (available < 4 + length) return null;
    const message = b.slice(s + 4, s + 4 + length);
    this.start += 4 + length;
    if (this.start === this.end) this.start = this.end = 0;
    return message;
  }
}

// ---- requests -------------------------------------------------------------------------------

export interface AgentAddOptions {
  /** Seconds until the agent forgets the key (SSH_AGENT_CONSTRAIN_LIFETIME); 1 to 2^32 − 1. */
  readonly lifetimeSeconds?: number;
  /** Ask the user (ssh-askpass) before every use of the key (SSH_AGENT_CONSTRAIN_CONFIRM). */
  readonly confirm?: boolean;
  /** Comment shown by `ssh-add -l`; defaults to the key's own comment. */
  readonly comment?: string;
}

/** Signature algorithms the sign flags can ask an RSA key for; other key types have one each. */
export type AgentRsaAlgorithm = 'rsa-sha2-256' | 'rsa-sha2-512' | 'ssh-rsa';

function checkSize(w: SshWriter, what: string): Uint8Array {
  if (w.size > MAX_AGENT_MESSAGE_LENGTH) {
    throw new SshUsageError(`${what} would be ${w.size} bytes; agent messages are limited to ${MAX_AGENT_MESSAGE_LENGTH} bytes`);
  }
  return w.finish().slice();
}

export function encodeRequestIdentities(): Uint8Array {
  return Uint8Array.of(AgentMessage.REQUEST_IDENTITIES);
}

/** SSH_AGENTC_SIGN_REQUEST for a key blob, the data to sign and the flags. */
export function encodeSignRequest(keyBlob: Uint8Array, data: Uint8Array, flags: number): Uint8Array {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new SshUsageError(`sign flags must be a uint32, got ${flags}`);
  const w = new SshWriter(16 + keyBlob.length + data.length);
  w.byte(AgentMessage.SIGN_REQUEST).string(keyBlob).string(data).uint32(flags);
  return checkSize(w, 'the sign request');
}

/** The flags asking `key` for `algorithm`; throws SshUsageError when the key cannot make it. */
export function signFlagsFor(key: PublicKey, algorithm: string): number {
  if (key.type === 'ssh-rsa') {
    if (algorithm === 'rsa-sha2-256') return AgentSignFlags.RSA_SHA2_256;
    if (algorithm === 'rsa-sha2-512') return AgentSignFlags.RSA_SHA2_512;
    if (algorithm === 'ssh-rsa') return 0;
  } else if (algorithm === key.type) {
    return 0;
  }
  throw new SshUsageError(`a ${key.type} key cannot sign with algorithm "${algorithm}"`);
}

/** The key type name and private fields of a key as the add-identity messages carry them. */
function writePrivateKey(w: SshWriter, key: PrivateKey): void {
  w.string(key.type);
  switch (key.type) {
    case 'ssh-ed25519': {
      // k || ENC(A): the 32-byte private key followed by the public key, as OpenSSH stores it.
      const secret = new Uint8Array(64);
      secret.set(key.seed, 0);
      secret.set(key.publicKey.key, 32);
      w.string(key.publicKey.key).string(secret);
      secret.fill(0);
      break;
    }
    case 'ssh-rsa': {
      const { n, e, d, iqmp, p, q } = key.rsa;
      w.mpint(n).mpint(e).mpint(d).mpint(iqmp).mpint(p).mpint(q);
      break;
    }
    default:
      w.string(ECDSA_CURVES[key.curve].identifier).string(key.publicKey.point).mpintFromBytes(key.d);
  }
}

/**
 * SSH_AGENTC_ADD_IDENTITY, or SSH_AGENTC_ADD_ID_CONSTRAINED when a lifetime or confirmation is
 * asked for. The returned bytes hold the private key: callers should not keep them around.
 */
export function encodeAddIdentity(key: PrivateKey, options: AgentAddOptions = {}): Uint8Array {
  const { lifetimeSeconds, confirm = false } = options;
  if (lifetimeSeconds !== undefined && (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 0xffffffff)) {
    throw new SshUsageError(`lifetimeSeconds must be a whole number of seconds from 1 to ${0xffffffff}, got ${lifetimeSeconds}`);
  }
  const constrained = lifetimeSeconds !== undefined || confirm;
  const w = new SshWriter(1024);
  w.byte(constrained ? AgentMessage.ADD_ID_CONSTRAINED : AgentMessage.ADD_IDENTITY);
  writePrivateKey(w, key);
  w.string(options.comment ?? key.comment);
  if (lifetimeSeconds !== undefined) w.byte(AgentConstraint.LIFETIME).uint32(lifetimeSeconds);
  if (confirm) w.byte(AgentConstraint.CONFIRM);
  const out = checkSize(w, 'the add-identity request');
  w.finish().fill(0);
  return out;
}

export function encodeRemoveIdentity(keyBlob: Uint8Array): Uint8Array {
  const w = new SshWriter(8 + keyBlob.length);
  w.byte(AgentMessage.REMOVE_IDENTITY).string(keyBlob);
  return checkSize(w, 'the remove-identity request');
}

export function encodeRemoveAllIdentities(): Uint8Array {
  return Uint8Array.of(AgentMessage.REMOVE_ALL_IDENTITIES);
}

/** SSH_AGENTC_EXTENSION with an extension name and its extension-specific contents. */
export function encodeExtensionRequest(name: string, contents: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new SshWriter(16 + name.length + contents.length);
  w.byte(AgentMessage.EXTENSION).string(name).raw(contents);
  return checkSize(w, `the "${name}" extension request`);
}

// ---- replies --------------------------------------------------------------------------------

/** One key the agent holds. */
export interface AgentIdentity {
  /** The key blob exactly as the agent sent it: what sign and remove requests name. */
  readonly blob: Uint8Array;
  /** The parsed key, or null for types we do not implement (certificates, sk-*, DSA, …). */
  readonly key: PublicKey | null;
  /** The type name inside the blob, e.g. `ssh-ed25519` or `ssh-ed25519-cert-v01@openssh.com`. */
  readonly keyType: string;
  /** `SHA256:…` of the blob, as `ssh-add -l` prints it. */
  readonly fingerprint: string;
  readonly comment: string;
}

export type AgentReply =
  | { readonly type: 'failure'; readonly messageType: number }
  | { readonly type: 'success'; readonly contents: Uint8Array }
  | { readonly type: 'identities'; readonly identities: readonly AgentIdentity[] }
  | { readonly type: 'signature'; readonly blob: Uint8Array; readonly algorithm: string }
  | { readonly type: 'extension'; readonly name: string; readonly contents: Uint8Array };

export function isAgentFailure(messageType: number): boolean {
  return messageType === AgentMessage.FAILURE || messageType === AgentMessage.EXTENSION_FAILURE || LEGACY_FAILURES.includes(messageType);
}

// Comments are free-form bytes in the agent (OpenSSH treats them as C strings); decode leniently.
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Decode one agent message (type byte and contents, without the length prefix). Throws
 * {@link AgentError} AGENT_PROTOCOL for an unknown type, truncated or trailing data, or counts
 * over the limits. Identity blobs of key types we cannot parse are returned with `key: null`.
 */
export function decodeAgentReply(message: Uint8Array): AgentReply {
  if (message.length === 0) throw protocol('the agent sent an empty message');
  const type = message[0]!;
  const r = new SshReader(message.subarray(1), `agent message ${type}`);
  try {
    if (isAgentFailure(type)) {
      // Failures carry no contents; some agents append junk, which changes nothing.
      return { type: 'failure', messageType: type };
    }
    switch (type) {
      case AgentMessage.SUCCESS:
        return { type: 'success', contents: r.rest().slice() };
      case AgentMessage.IDENTITIES_ANSWER:
        return { type: 'identities', identities: readIdentities(r) };
      case AgentMessage.SIGN_RESPONSE: {
        const blob = r.string().slice();
        r.end();
        return { type: 'signature', blob, algorithm: signatureAlgorithmOf(blob) };
      }
      case AgentMessage.EXTENSION_RESPONSE: {
        const name = r.ascii(256);
        return { type: 'extension', name, contents: r.rest().slice() };
      }
      default:
        throw protocol(`the agent sent message type ${type}, which is not a reply this client understands`);
    }
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw protocol(`malformed agent reply (type ${type}): ${(err as Error).message}`, err);
  }
}

function readIdentities(r: SshReader): AgentIdentity[] {
  const count = r.uint32();
  if (count > MAX_AGENT_IDENTITIES) throw protocol(`the agent lists ${count} keys; at most ${MAX_AGENT_IDENTITIES} are accepted`);
  // Each entry needs at least two length prefixes: a count the contents cannot hold is a lie.
  if (count * 8 > r.remaining) throw protocol(`the agent lists ${count} keys but sent only ${r.remaining} bytes of them`);
  const identities: AgentIdentity[] = [];
  for (let i = 0; i < count; i++) {
    const blob = r.string().slice();
    const comment = lenientUtf8.decode(r.string());
    identities.push(identityFromBlob(blob, comment));
  }
  r.end();
  return identities;
}

/** Describe a key blob the agent reported; never throws for blobs we cannot parse. */
export function identityFromBlob(blob: Uint8Array, comment: string): AgentIdentity {
  let keyType = '';
  try {
    keyType = new SshReader(blob).ascii(256);
  } catch {
    keyType = '(unreadable key type)';
  }
  let key: PublicKey | null = null;
  try {
    key = parsePublicKeyBlob(blob);
  } catch {
    // Certificates, security keys, DSA or keys outside our size policy: kept as raw blobs.
    key = null;
  }
  return { blob, key, keyType, fingerprint: fingerprintSha256(blob), comment };
}

function signatureAlgorithmOf(blob: Uint8Array): string {
  const r = new SshReader(blob, 'signature blob');
  const algorithm = r.ascii(64);
  r.string();
  r.end();
  return algorithm;
}

/** The names in a `query` extension answer (the contents after the "query" name). */
export function decodeQueryContents(contents: Uint8Array): string[] {
  const r = new SshReader(contents, 'query extension answer');
  const names: string[] = [];
  try {
    while (r.remaining > 0) {
      if (names.length >= MAX_AGENT_EXTENSIONS) throw protocol(`the agent lists more than ${MAX_AGENT_EXTENSIONS} extensions`);
      names.push(r.ascii(256));
    }
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw protocol(`malformed query extension answer: ${(err as Error).message}`, err);
  }
  return names;
}

// ---- the agent side of the same messages, for tests and in-process agents --------------------

export function encodeFailure(): Uint8Array {
  return Uint8Array.of(AgentMessage.FAILURE);
}

export function encodeSuccess(): Uint8Array {
  return Uint8Array.of(AgentMessage.SUCCESS);
}

export function encodeIdentitiesAnswer(identities: readonly { readonly blob: Uint8Array; readonly comment: string }[]): Uint8Array {
  const w = new SshWriter();
  w.byte(AgentMessage.IDENTITIES_ANSWER).uint32(identities.length);
  for (const { blob, comment } of identities) w.string(blob).string(comment);
  return w.finish().slice();
}

export function encodeSignResponse(signatureBlob: Uint8Array): Uint8Array {
  return new SshWriter(8 + signatureBlob.length).byte(AgentMessage.SIGN_RESPONSE).string(signatureBlob).finish().slice();
}

export function encodeQueryResponse(names: readonly string[]): Uint8Array {
  const w = new SshWriter();
  w.byte(AgentMessage.EXTENSION_RESPONSE).string('query');
  for (const name of names) w.string(name);
  return w.finish().slice();
}
