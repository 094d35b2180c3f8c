/**
 * Client user authentication, RFC 4252 (framework, publickey section 7, password section 8,
 * hostbased section 9) and RFC 4256 (keyboard-interactive), with RFC 8332 rsa-sha2 selection from
 * `server-sig-algs` (RFC 8308 section 3.1).
 *
 * Order follows OpenSSH: first `none` (the answer lists what can continue), then methods in the
 * configured preference (default publickey, keyboard-interactive, password), each only if the
 * server still allows it; every public key is offered without a signature first and signed only
 * after PK_OK. Secrets never pass through here: signatures, passwords and prompt answers are
 * decisions the embedder answers, possibly asynchronously (an agent, a hardware key, a prompt).
 */
import { createActor, type Actor } from 'xstate';
import { classifyClientAuthMessage, clientAuthMachine, type ClientAuthEvent, type ClientAuthState } from '../../machines/client-auth.ts';
import { DisconnectReason, SshProtocolError, SshUsageError, protocolError } from '../errors.ts';
import type { KeyboardPrompt } from '../events.ts';
import type { PublicKey } from '../keys/public-key.ts';
import { Msg } from '../wire/messages.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import type { AuthHost } from './host.ts';

export type ClientAuthMethod = 'none' | 'publickey' | 'keyboard-interactive' | 'password' | 'hostbased';

export const DEFAULT_CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ['publickey', 'keyboard-interactive', 'password'];

/** A key the client can prove possession of (through a `sign` decision). */
export interface ClientPublicKey {
  readonly key: PublicKey;
  /** An OpenSSH certificate blob for `key`: offered instead of the bare key. */
  readonly certificate?: Uint8Array;
  /** For messages only (a file name, an agent comment). */
  readonly comment?: string;
}

export interface HostbasedIdentity {
  /** The client's host key (signs through a `sign` decision with purpose `hostbased`). */
  readonly key: PublicKey;
  /** Fully qualified name of the client host, as the server will look it up. */
  readonly clientHostname: string;
  readonly localUsername: string;
}

export interface ClientAuthOptions {
  readonly username: string;
  readonly methods?: readonly ClientAuthMethod[];
  readonly publicKeys?: readonly ClientPublicKey[];
  readonly hostbased?: HostbasedIdentity;
  /** How many times to ask for a password / run keyboard-interactive (OpenSSH NumberOfPasswordPrompts). */
  readonly passwordPrompts?: number;
  /** Allow the SHA-1 `ssh-rsa` signature when the server offers nothing better. Default false. */
  readonly allowSha1Rsa?: boolean;
  /**
   * Signature algorithms this client may use for user keys (ssh_config PubkeyAcceptedAlgorithms),
   * e.g. `['rsa-sha2-256', 'ssh-ed25519']`; default: all but SHA-1.
   */
  readonly publicKeyAlgorithms?: readonly string[];
}

/** Authentication failed for good: carries what was tried and what the server would still take. */
export class SshAuthenticationError extends SshProtocolError {
  constructor(
    readonly username: string,
    readonly methodsTried: readonly string[],
    readonly methodsAllowed: readonly string[],
  ) {
    super(
      'AUTH_FAILED',
      DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE,
      `authentication failed for ${username}: tried ${methodsTried.join(',') || '(nothing)'}; the server allows ${methodsAllowed.join(',') || '(nothing)'}`,
    );
  }
}

const CERT_SUFFIX = '-cert-v01@openssh.com';

/** The certificate algorithm name for a signature algorithm (PROTOCOL.certkeys, RFC 8332 for RSA). */
export function certificateAlgorithmFor(signatureAlgorithm: string): string {
  return signatureAlgorithm + CERT_SUFFIX;
}

function blobTypeName(blob: Uint8Array): string {
  return new SshReader(blob, 'key blob').ascii(256);
}

export class ClientAuth {
  private readonly actor: Actor<typeof clientAuthMachine>;
  private readonly methods: readonly ClientAuthMethod[];
  private readonly keys: readonly ClientPublicKey[];
  private readonly maxPrompts: number;
  private allowed: readonly string[] = [];
  private readonly tried: string[] = [];
  private keyIndex = 0;
  private passwordAttempts = 0;
  private kbdAttempts = 0;
  private hostbasedTried = false;
  /** The method of the request in flight: what a SUCCESS reports. */
  private current: ClientAuthMethod = 'none';
  /** The key offered by the outstanding query: what PK_OK must name. */
  private offered: { entry: ClientPublicKey; algorithm: string; signatureAlgorithm: string; blob: Uint8Array } | null = null;

  constructor(
    private readonly host: AuthHost,
    private readonly options: ClientAuthOptions,
  ) {
    this.methods = options.methods ?? DEFAULT_CLIENT_AUTH_METHODS;
    this.keys = options.publicKeys ?? [];
    this.maxPrompts = options.passwordPrompts ?? 3;
    this.actor = createActor(clientAuthMachine);
    this.actor.subscribe({ error: () => {} });
    this.actor.start();
  }

  get state(): ClientAuthState {
    return this.actor.getSnapshot().value as ClientAuthState;
  }

  private step(event: ClientAuthEvent): void {
    const before = this.state;
    this.actor.send(event);
    if (this.state === before && !(before === 'idle' && event.type === 'FAILURE')) {
      throw protocolError(`authentication event ${event.type} is not valid in state ${before}`);
    }
  }

  private request(method: string): SshWriter {
    return new SshWriter().byte(Msg.USERAUTH_REQUEST).string(this.options.username).string('ssh-connection').string(method);
  }

  /** The service was accepted: ask with `none` first, as OpenSSH does. */
  start(): void {
    this.tried.push('none');
    this.host.send(this.request('none').finish());
    this.step({ type: 'SENT_NONE' });
  }

  handle(msg: number, payload: Uint8Array): void {
    const meaning = classifyClientAuthMessage(this.state, msg);
    if (meaning === null) {
      throw new SshProtocolError('UNEXPECTED_MESSAGE', DisconnectReason.PROTOCOL_ERROR, `unexpected authentication message ${msg} while ${this.state}`);
    }
    const r = new SshReader(payload, 'authentication message');
    r.byte();
    switch (meaning) {
      case 'banner': {
        const message = r.text(65536);
        r.ascii(256);
        r.end();
        this.host.emit({ type: 'banner', message });
        return;
      }
      case 'success':
        r.end();
        this.step({ type: 'SUCCESS' });
        this.host.succeeded();
        this.host.emit({ type: 'authSuccess', username: this.options.username, method: this.current });
        return;
      case 'failure': {
        const methods = r.nameList(4096);
        const partialSuccess = r.boolean();
        r.end();
        this.allowed = methods;
        this.offered = null;
        this.step({ type: 'FAILURE' });
        this.host.emit({ type: 'authFailure', methods, partialSuccess });
        this.next();
        return;
      }
      case 'pkOk':
        return this.onPkOk(r);
      case 'passwordChangeRequest': {
        const prompt = r.text(4096);
        r.ascii(256);
        r.end();
        this.step({ type: 'ASK_PASSWORD_CHANGE' });
        this.host.ask({ kind: 'passwordChange', username: this.options.username, prompt }, (answer) => {
          if (answer === null) return this.abandon();
          const a = answer as { oldPassword?: unknown; newPassword?: unknown };
          if (typeof a !== 'object' || typeof a.oldPassword !== 'string' || typeof a.newPassword !== 'string') {
            throw new SshUsageError('a passwordChange decision is answered with { oldPassword, newPassword } or null');
          }
          this.host.send(this.request('password').boolean(true).string(a.oldPassword).string(a.newPassword).finish());
          this.step({ type: 'SENT_PASSWORD' });
        });
        return;
      }
      case 'infoRequest':
        return this.onInfoRequest(r);
    }
  }

  /** The embedder declined to answer (null): treat the method as failed and move on. */
  private abandon(): void {
    this.step({ type: 'FAILURE' });
    this.next();
  }

  private signatureAlgorithmFor(key: PublicKey): string | null {
    const allowed = (alg: string) => this.options.publicKeyAlgorithms?.includes(alg) ?? (alg !== 'ssh-rsa' || this.options.allowSha1Rsa === true);
    if (key.type !== 'ssh-rsa') return allowed(key.type) ? key.type : null;
    const offered = this.host.serverSigAlgs();
    for (const alg of ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']) {
      // Without server-sig-algs (RFC 8308) assume a modern server rather than falling back to SHA-1.
      if (allowed(alg) && (offered === null ? alg !== 'ssh-rsa' : offered.includes(alg))) return alg;
    }
    return null;
  }

  private next(): void {
    for (const method of this.methods) {
      if (!this.allowed.includes(method)) continue;
      if (method === 'publickey' && this.offerNextKey()) return;
      if (method === 'keyboard-interactive' && this.kbdAttempts < this.maxPrompts) {
        this.kbdAttempts++;
        this.noteTried(method);
        this.host.send(this.request(method).string('').string('').finish());
        this.step({ type: 'SENT_KBD_START' });
        return;
      }
      if (method === 'password' && this.passwordAttempts < this.maxPrompts) {
        this.passwordAttempts++;
        this.noteTried(method);
        this.step({ type: 'ASK_PASSWORD' });
        const prompt = `${this.options.username}'s password: `;
        this.host.ask({ kind: 'password', username: this.options.username, prompt, attempt: this.passwordAttempts }, (answer) => {
          if (answer === null) {
            this.passwordAttempts = this.maxPrompts;
            return this.abandon();
          }
          if (typeof answer !== 'string') throw new SshUsageError('a password decision is answered with a string or null');
          this.host.send(this.request('password').boolean(false).string(answer).finish());
          this.step({ type: 'SENT_PASSWORD' });
        });
        return;
      }
      if (method === 'hostbased' && this.options.hostbased && !this.hostbasedTried) {
        this.hostbasedTried = true;
        if (this.signHostbased(this.options.hostbased)) return;
      }
    }
    this.step({ type: 'GIVE_UP' });
    throw new SshAuthenticationError(this.options.username, this.tried, this.allowed);
  }

  private noteTried(method: ClientAuthMethod): void {
    this.current = method;
    if (!this.tried.includes(method)) this.tried.push(method);
  }

  private offerNextKey(): boolean {
    while (this.keyIndex < this.keys.length) {
      const entry = this.keys[this.keyIndex++]!;
      const signatureAlgorithm = this.signatureAlgorithmFor(entry.key);
      if (signatureAlgorithm === null) continue;
      const blob = entry.certificate ?? entry.key.blob;
      const algorithm = entry.certificate ? certificateAlgorithmFor(entry.key.type === 'ssh-rsa' ? signatureAlgorithm : blobTypeName(entry.certificate).slice(0, -CERT_SUFFIX.length)) : signatureAlgorithm;
      this.offered = { entry, algorithm, signatureAlgorithm, blob };
      this.noteTried('publickey');
      this.host.send(this.request('publickey').boolean(false).string(algorithm).string(blob).finish());
      this.step({ type: 'SENT_KEY_QUERY' });
      return true;
    }
    return false;
  }

  private onPkOk(r: SshReader): void {
    const algorithm = r.ascii(256);
    const blob = r.string(16384);
    r.end();
    const offered = this.offered;
    if (!offered || algorithm !== offered.algorithm || !equalBytes(blob, offered.blob)) {
      throw protocolError('USERAUTH_PK_OK names a key that was not offered');
    }
    const data = new SshWriter()
      .string(this.host.sessionId())
      .byte(Msg.USERAUTH_REQUEST)
      .string(this.options.username)
      .string('ssh-connection')
      .string('publickey')
      .boolean(true)
      .string(algorithm)
      .string(blob)
      .finish();
    this.step({ type: 'ASK_SIGNATURE' });
    const comment = offered.entry.comment;
    this.host.ask(
      {
        kind: 'sign',
        purpose: 'publickey',
        key: offered.entry.key,
        algorithm: offered.signatureAlgorithm,
        data,
        ...(offered.entry.certificate ? { certificate: offered.entry.certificate } : {}),
        ...(comment !== undefined ? { comment } : {}),
      },
      (answer) => {
        if (answer === null) return this.abandon();
        const signature = this.checkSignatureAnswer(answer, offered.signatureAlgorithm);
        this.host.send(this.request('publickey').boolean(true).string(algorithm).string(blob).string(signature).finish());
        this.step({ type: 'SENT_SIGNED' });
      },
    );
  }

  private checkSignatureAnswer(answer: unknown, expectedAlgorithm: string): Uint8Array {
    if (!(answer instanceof Uint8Array)) throw new SshUsageError('a sign decision is answered with a signature blob (Uint8Array: string algorithm, string signature) or null');
    let name: string;
    try {
      name = new SshReader(answer, 'signature').ascii(256);
    } catch {
      throw new SshUsageError('the signature answer is not an SSH signature blob (string algorithm, string signature)');
    }
    if (name !== expectedAlgorithm) throw new SshUsageError(`the signature answer uses ${name}, but ${expectedAlgorithm} was asked for`);
    return answer;
  }

  private signHostbased(identity: HostbasedIdentity): boolean {
    const signatureAlgorithm = this.signatureAlgorithmFor(identity.key);
    if (signatureAlgorithm === null) return false;
    this.noteTried('hostbased');
    const data = new SshWriter()
      .string(this.host.sessionId())
      .byte(Msg.USERAUTH_REQUEST)
      .string(this.options.username)
      .string('ssh-connection')
      .string('hostbased')
      .string(signatureAlgorithm)
      .string(identity.key.blob)
      .string(identity.clientHostname)
      .string(identity.localUsername)
      .finish();
    this.step({ type: 'ASK_SIGNATURE' });
    this.host.ask({ kind: 'sign', purpose: 'hostbased', key: identity.key, algorithm: signatureAlgorithm, data }, (answer) => {
      if (answer === null) return this.abandon();
      const signature = this.checkSignatureAnswer(answer, signatureAlgorithm);
      this.host.send(
        this.request('hostbased').string(signatureAlgorithm).string(identity.key.blob).string(identity.clientHostname).string(identity.localUsername).string(signature).finish(),
      );
      this.step({ type: 'SENT_SIGNED' });
    });
    return true;
  }

  private onInfoRequest(r: SshReader): void {
    const name = r.text(4096);
    const instruction = r.text(65536);
    r.ascii(256);
    const count = r.uint32();
    if (count > 64) throw protocolError(`keyboard-interactive request with ${count} prompts`);
    const prompts: KeyboardPrompt[] = [];
    for (let i = 0; i < count; i++) prompts.push({ prompt: r.text(4096), echo: r.boolean() });
    r.end();
    this.step({ type: 'ASK_KBD_RESPONSES' });
    const send = (responses: readonly string[]) => {
      const w = new SshWriter().byte(Msg.USERAUTH_INFO_RESPONSE).uint32(responses.length);
      for (const response of responses) w.string(response);
      this.host.send(w.finish());
      this.step({ type: 'SENT_KBD_RESPONSES' });
    };
    // RFC 4256 3.2: a request with no prompts still needs an (empty) response.
    if (count === 0 && name === '' && instruction === '') return send([]);
    this.host.ask({ kind: 'keyboardInteractive', username: this.options.username, name, instruction, prompts }, (answer) => {
      if (answer === null) return this.abandon();
      if (!Array.isArray(answer) || answer.length !== prompts.length || !answer.every((a) => typeof a === 'string')) {
        throw new SshUsageError(`a keyboardInteractive decision is answered with ${prompts.length} strings (one per prompt) or null`);
      }
      send(answer as string[]);
    });
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
