/**
 * Server user authentication, RFC 4252 (sections 5-9) and RFC 4256 (keyboard-interactive), with
 * method chains like OpenSSH's AuthenticationMethods and its limits (MaxAuthTries, a fixed user
 * name and service per connection).
 *
 * Every judgement is a decision for the embedder: which chains a user may take, whether a password
 * or key is acceptable, what to prompt. What the engine decides alone is what must not be left to
 * anyone: a public key signature is verified over this session's id with exactly the key in the
 * request before the embedder is asked, and only the methods that are next in some chain are
 * accepted at all.
 */
import { createActor, type Actor } from 'xstate';
import { classifyServerAuthMessage, serverAuthMachine, type ServerAuthEvent, type ServerAuthState } from '../../machines/server-auth.ts';
import { DisconnectReason, SshProtocolError, SshUsageError } from '../errors.ts';
import type { KeyboardPrompt } from '../events.ts';
import { certificateKeyTypeForAlgorithm, parseCertificate, signatureAlgorithmForCertAlgorithm } from '../keys/certificate.ts';
import { parsePublicKeyBlob, type PublicKey } from '../keys/public-key.ts';
import { keyTypeForSignatureAlgorithm, verifySignature } from '../keys/signature.ts';
import { Msg } from '../wire/messages.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import type { AuthHost } from './host.ts';
import type { SessionPolicy } from '../connection/connection.ts';

export interface ServerAuthOptions {
  /** Failed attempts before the connection is dropped (OpenSSH MaxAuthTries, default 6). */
  readonly maxAuthTries?: number;
  /** Accept `none` for every user (anonymous services). Default false. */
  readonly acceptNoneAuthentication?: boolean;
  /** Sent as USERAUTH_BANNER before the first answer (RFC 4252 section 5.4). */
  readonly banner?: string;
  /** Public key algorithms accepted for user authentication (also announced as server-sig-algs). */
  readonly publicKeyAlgorithms: readonly string[];
}

const CERT_SUFFIX = '-cert-v01@openssh.com';
const MAX_KBD_ROUNDS = 16;

export class ServerAuth {
  private readonly actor: Actor<typeof serverAuthMachine>;
  private username: string | null = null;
  private chains: ReadonlyArray<readonly string[]> | null = null;
  private readonly completed: string[] = [];
  private failures = 0;
  private requests = 0;
  private bannerSent = false;
  private policy: unknown = undefined;
  private kbd: { submethods: string; round: number; prompts: number } | null = null;

  constructor(
    private readonly host: AuthHost,
    private readonly options: ServerAuthOptions,
  ) {
    this.actor = createActor(serverAuthMachine);
    this.actor.subscribe({ error: () => {} });
    this.actor.start();
  }

  get state(): ServerAuthState {
    return this.actor.getSnapshot().value as ServerAuthState;
  }

  private step(event: ServerAuthEvent): void {
    this.actor.send(event);
  }

  handle(msg: number, payload: Uint8Array): void {
    const meaning = classifyServerAuthMessage(this.state, msg);
    if (meaning === null) {
      throw new SshProtocolError('UNEXPECTED_MESSAGE', DisconnectReason.PROTOCOL_ERROR, `unexpected authentication message ${msg} from the client while ${this.state}`);
    }
    if (meaning === 'infoResponse') return this.onInfoResponse(payload);
    const r = new SshReader(payload, 'USERAUTH_REQUEST');
    r.byte();
    const username = r.text(256);
    const service = r.ascii(64);
    const method = r.ascii(64);
    if (service !== 'ssh-connection') {
      throw new SshProtocolError('SERVICE_NOT_AVAILABLE', DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${JSON.stringify(service)} is not available`);
    }
    if (this.username !== null && username !== this.username) {
      throw new SshProtocolError('PROTOCOL_ERROR', DisconnectReason.PROTOCOL_ERROR, 'change of user name during authentication is not allowed');
    }
    this.kbd = null;
    this.requests++;
    this.step({ type: 'REQUEST' });
    if (this.chains === null) {
      this.username = username;
      if (this.options.acceptNoneAuthentication) {
        this.chains = [['none']];
        return this.onRequest(method, r);
      }
      this.host.ask({ kind: 'authMethods', username }, (answer) => {
        if (!Array.isArray(answer) || !answer.every((c) => Array.isArray(c) && c.length > 0 && c.every((m) => typeof m === 'string'))) {
          throw new SshUsageError("an authMethods decision is answered with a list of method chains, e.g. [['publickey'], ['password']]");
        }
        this.chains = answer as string[][];
        this.onRequest(method, r);
      });
      return;
    }
    this.onRequest(method, r);
  }

  /** Methods that are next in some chain whose earlier methods are all completed. */
  private nextMethods(): string[] {
    const out: string[] = [];
    for (const chain of this.chains ?? []) {
      if (chain.length <= this.completed.length) continue;
      if (!this.completed.every((m, i) => chain[i] === m)) continue;
      const next = chain[this.completed.length]!;
      if (!out.includes(next)) out.push(next);
    }
    return out;
  }

  private onRequest(method: string, r: SshReader): void {
    const allowed = this.nextMethods();
    if (method === 'none' && allowed.includes('none')) return this.methodSucceeded('none');
    if (method === 'none' || !allowed.includes(method)) {
      // The first `none` is the client asking what it may do; it is not an attempt (as sshd).
      return this.methodFailed(!(method === 'none' && this.requests === 1));
    }
    switch (method) {
      case 'password':
        return this.onPassword(r);
      case 'publickey':
        return this.onPublicKey(r);
      case 'keyboard-interactive':
        return this.onKeyboardInteractive(r);
      case 'hostbased':
        return this.onHostbased(r);
      default:
        return this.methodFailed(true);
    }
  }

  private sendBannerOnce(): void {
    if (this.bannerSent || !this.options.banner) return;
    this.bannerSent = true;
    this.host.send(new SshWriter().byte(Msg.USERAUTH_BANNER).string(this.options.banner).string('').finish());
  }

  private methodFailed(counts: boolean, partial = false): void {
    this.sendBannerOnce();
    if (counts) this.failures++;
    const max = this.options.maxAuthTries ?? 6;
    if (this.failures >= max) {
      throw new SshProtocolError('LIMIT_EXCEEDED', DisconnectReason.PROTOCOL_ERROR, `too many authentication failures for ${this.username ?? '?'} (${this.failures})`);
    }
    this.host.send(new SshWriter().byte(Msg.USERAUTH_FAILURE).nameList(this.nextMethods()).boolean(partial).finish());
    this.step({ type: 'DECIDED_FAILURE' });
  }

  private methodSucceeded(method: string): void {
    this.sendBannerOnce();
    this.completed.push(method);
    const done = (this.chains ?? []).some((chain) => chain.length === this.completed.length && chain.every((m, i) => this.completed[i] === m));
    if (!done) return this.methodFailed(false, true);
    this.host.send(new Uint8Array([Msg.USERAUTH_SUCCESS]));
    this.step({ type: 'DECIDED_SUCCESS' });
    if (this.policy !== undefined) this.host.setPolicy(this.policy as SessionPolicy);
    this.host.succeeded();
    this.host.emit({ type: 'authSuccess', username: this.username!, method: this.completed.join(','), ...(this.policy !== undefined ? { policy: this.policy } : {}) });
  }

  private answerIsAccept(answer: unknown, kind: string): boolean {
    if (typeof answer === 'boolean') return answer;
    if (typeof answer === 'object' && answer !== null && (answer as { accept?: unknown }).accept === true) {
      const policy = (answer as { policy?: unknown }).policy;
      if (policy !== undefined) this.policy = policy;
      return true;
    }
    throw new SshUsageError(`an ${kind} decision is answered with true, false or { accept: true, policy }`);
  }

  private onPassword(r: SshReader): void {
    const change = r.boolean();
    const password = r.text(1024);
    const newPassword = change ? r.text(1024) : undefined;
    r.end();
    const username = this.username!;
    this.host.ask({ kind: 'authPassword', username, password, ...(newPassword !== undefined ? { newPassword } : {}) }, (answer) => {
      if (typeof answer === 'object' && answer !== null && typeof (answer as { changePassword?: unknown }).changePassword === 'string') {
        this.sendBannerOnce();
        this.host.send(new SshWriter().byte(Msg.USERAUTH_PASSWD_CHANGEREQ).string((answer as { changePassword: string }).changePassword).string('').finish());
        this.step({ type: 'DECIDED_FAILURE' });
        return;
      }
      if (typeof answer !== 'boolean') throw new SshUsageError('an authPassword decision is answered with true, false or { changePassword: prompt }');
      if (answer) this.methodSucceeded('password');
      else this.methodFailed(true);
    });
  }

  /** The key in a publickey or hostbased request: a plain key, or the key inside a certificate. */
  private offeredKey(algorithm: string, blob: Uint8Array): { key: PublicKey; signatureAlgorithm: string; certificate?: Uint8Array } | null {
    if (!this.options.publicKeyAlgorithms.includes(algorithm)) return null;
    try {
      if (algorithm.endsWith(CERT_SUFFIX)) {
        const cert = parseCertificate(blob);
        if (cert.type !== certificateKeyTypeForAlgorithm(algorithm)) return null;
        return { key: cert.publicKey, signatureAlgorithm: signatureAlgorithmForCertAlgorithm(algorithm), certificate: blob };
      }
      const key = parsePublicKeyBlob(blob);
      if (keyTypeForSignatureAlgorithm(algorithm) !== key.type) return null;
      return { key, signatureAlgorithm: algorithm };
    } catch {
      return null;
    }
  }

  private signedData(method: string, fields: (w: SshWriter) => void): Uint8Array {
    const w = new SshWriter().string(this.host.sessionId()).byte(Msg.USERAUTH_REQUEST).string(this.username!).string('ssh-connection').string(method);
    fields(w);
    return w.finish();
  }

  private onPublicKey(r: SshReader): void {
    const hasSignature = r.boolean();
    const algorithm = r.ascii(128);
    const blob = r.string(16384);
    const signature = hasSignature ? r.string(16384) : null;
    r.end();
    const offered = this.offeredKey(algorithm, blob);
    if (!offered) return this.methodFailed(true);
    if (signature) {
      const data = this.signedData('publickey', (w) => w.boolean(true).string(algorithm).string(blob));
      if (!verifySignature(this.host.crypto, offered.key, offered.signatureAlgorithm, signature, data)) return this.methodFailed(true);
    }
    const username = this.username!;
    this.host.ask(
      { kind: 'authPublicKey', username, key: offered.key, algorithm, signed: signature !== null, ...(offered.certificate ? { certificate: offered.certificate } : {}) },
      (answer) => {
        const accept = this.answerIsAccept(answer, 'authPublicKey');
        if (!accept) return this.methodFailed(true);
        if (signature) return this.methodSucceeded('publickey');
        this.host.send(new SshWriter().byte(Msg.USERAUTH_PK_OK).string(algorithm).string(blob).finish());
        this.step({ type: 'DECIDED_FAILURE' });
      },
    );
  }

  private onHostbased(r: SshReader): void {
    const algorithm = r.ascii(128);
    const blob = r.string(16384);
    const clientHostname = r.text(1024);
    const clientUsername = r.text(256);
    const signature = r.string(16384);
    r.end();
    const offered = this.offeredKey(algorithm, blob);
    if (!offered) return this.methodFailed(true);
    const data = this.signedData('hostbased', (w) => w.string(algorithm).string(blob).string(clientHostname).string(clientUsername));
    if (!verifySignature(this.host.crypto, offered.key, offered.signatureAlgorithm, signature, data)) return this.methodFailed(true);
    const username = this.username!;
    this.host.ask({ kind: 'authHostbased', username, key: offered.key, algorithm, clientHostname, clientUsername }, (answer) => {
      if (this.answerIsAccept(answer, 'authHostbased')) this.methodSucceeded('hostbased');
      else this.methodFailed(true);
    });
  }

  private onKeyboardInteractive(r: SshReader): void {
    r.text(256); // language tag, deprecated (RFC 4256 3.1)
    const submethods = r.text(1024);
    r.end();
    this.kbd = { submethods, round: 0, prompts: 0 };
    this.askKbd(null);
  }

  private onInfoResponse(payload: Uint8Array): void {
    const r = new SshReader(payload, 'USERAUTH_INFO_RESPONSE');
    r.byte();
    const count = r.uint32();
    const kbd = this.kbd;
    if (!kbd || count !== kbd.prompts) {
      throw new SshProtocolError('PROTOCOL_ERROR', DisconnectReason.PROTOCOL_ERROR, `keyboard-interactive response has ${count} answers for ${kbd?.prompts ?? 0} prompts`);
    }
    const responses: string[] = [];
    for (let i = 0; i < count; i++) responses.push(r.text(1024));
    r.end();
    this.step({ type: 'KBD_RESPONSE' });
    this.askKbd(responses);
  }

  private askKbd(responses: string[] | null): void {
    const kbd = this.kbd!;
    const username = this.username!;
    this.host.ask({ kind: 'authKeyboardInteractive', username, submethods: kbd.submethods, round: kbd.round, responses }, (answer) => {
      if (typeof answer === 'boolean') {
        this.kbd = null;
        if (answer) this.methodSucceeded('keyboard-interactive');
        else this.methodFailed(true);
        return;
      }
      const a = answer as { name?: unknown; instruction?: unknown; prompts?: unknown };
      const prompts = a?.prompts;
      if (typeof a !== 'object' || a === null || !Array.isArray(prompts) || !prompts.every((p: KeyboardPrompt) => typeof p?.prompt === 'string' && typeof p?.echo === 'boolean')) {
        throw new SshUsageError('an authKeyboardInteractive decision is answered with true, false or { name?, instruction?, prompts: [{ prompt, echo }] }');
      }
      if (kbd.round >= MAX_KBD_ROUNDS) {
        this.kbd = null;
        return this.methodFailed(true);
      }
      kbd.round++;
      kbd.prompts = prompts.length;
      const w = new SshWriter()
        .byte(Msg.USERAUTH_INFO_REQUEST)
        .string(typeof a.name === 'string' ? a.name : '')
        .string(typeof a.instruction === 'string' ? a.instruction : '')
        .string('')
        .uint32(prompts.length);
      for (const p of prompts as KeyboardPrompt[]) w.string(p.prompt).boolean(p.echo);
      this.sendBannerOnce();
      this.host.send(w.finish());
      this.step({ type: 'KBD_PROMPTED' });
    });
  }
}
