/**
 * Who may log in to `hermit serve`, and with what: the policy that answers the server engine's
 * authentication decisions (core/events.ts: authMethods, authPublicKey, authPassword,
 * authKeyboardInteractive, authHostbased) from files, the way sshd(8) does from its configuration.
 *
 * Accounts. hermit serve does not switch users: every login acts as the account that runs it. The
 * names a client may log in as are that account's name and each `--allow-user NAME`. All of them
 * share one authorized_keys file and trusted CA file; each may have its own line in the password
 * file. Any other name is answered with the same method list and fails every attempt after the
 * same work (a password is still hashed, against another line's hash), so a client cannot probe which
 * names exist; only the server's log says "invalid user".
 *
 * Stores, read afresh for every connection at the first attempt that needs them, so that an edit
 * applies to the next connection without a restart and one connection sees one version of each:
 * - authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT): plain keys, and `cert-authority` lines
 *   whose CA may sign user certificates (principals from `principals=`, else the user name);
 *   `from=` and `expiry-time=` are enforced here, the rest becomes the SessionPolicy handed to the
 *   connection layer.
 * - the trusted user CA file (sshd_config(5) TrustedUserCAKeys): a certificate signed by one of
 *   these keys must name the user as a principal.
 * - the password file: `user:hash` lines checked with core's slow hashes (constant-time compare).
 *   Password and keyboard-interactive (one "Password: " prompt, echo off) both use it. Empty
 *   passwords are refused, as sshd's PermitEmptyPasswords=no.
 *
 * Methods are OpenSSH AuthenticationMethods chains; a method is offered only when a store backs
 * it, so without a password file neither password nor keyboard-interactive is offered.
 *
 * Every attempt logs one line in sshd's wording ("Accepted publickey for alice from 127.0.0.1
 * port 50000 ssh2: ED25519 SHA256:…", "Failed password for invalid user bob from …"), with the
 * reason for a refusal, since the client is deliberately told nothing.
 */
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  type AuthKeyboardInteractiveDecision,
  type AuthorizedKeyEntry,
  type AuthorizedKeysPolicy as SessionPolicy,
  type AuthPasswordDecision,
  type AuthPublicKeyDecision,
  type Certificate,
  type CryptoProvider,
  type Decision,
  findAuthorizedKey,
  fingerprint,
  formatUnixTimeUtc,
  keyTypeLabel,
  parseCertificate,
  parsePublicKeyLine,
  type PublicKey,
  publicKeysEqual,
  verifyCertificate,
  verifyPassword,
} from '../../core/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { TrustFileError, loadAuthorizedKeys, loadPasswordFile } from '../trust/trust-files.ts';

/** The methods hermit serve can back with a store. */
export const AUTH_METHOD_NAMES = ['publickey', 'password', 'keyboard-interactive'] as const;
export type AuthMethodName = (typeof AUTH_METHOD_NAMES)[number];

/** sshd's default order: keys first, then the password methods. */
export const DEFAULT_AUTH_METHODS = 'publickey password keyboard-interactive';

/**
 * A wrong configuration: the message says what is wrong and how to fix it. `usage` marks a
 * contradictory or malformed setting (a command-line mistake) as opposed to a file that cannot be used.
 */
export class AuthConfigError extends Error {
  constructor(
    message: string,
    readonly usage = true,
  ) {
    super(message);
  }
}

/**
 * OpenSSH AuthenticationMethods syntax: space-separated alternatives, each a comma-separated chain
 * of methods that must all succeed in order ("publickey,password keyboard-interactive"). `any`
 * alone means the defaults.
 */
export function parseAuthMethods(text: string): AuthMethodName[][] {
  const lists = text.trim().split(/\s+/).filter((s) => s !== '');
  if (lists.length === 0) throw new AuthConfigError(`no authentication methods given; write e.g. "${DEFAULT_AUTH_METHODS}" or "publickey,password"`);
  if (lists.length === 1 && lists[0] === 'any') return parseAuthMethods(DEFAULT_AUTH_METHODS);
  return lists.map((list) =>
    list.split(',').map((method) => {
      if (method === '') throw new AuthConfigError(`"${list}" has an empty method; chains are methods joined by single commas, e.g. publickey,password`);
      if (method.startsWith('keyboard-interactive:')) {
        throw new AuthConfigError(`"${method}": keyboard-interactive has no submethods here (it asks for the password-file password); write keyboard-interactive`);
      }
      if (!(AUTH_METHOD_NAMES as readonly string[]).includes(method)) {
        throw new AuthConfigError(`unknown authentication method "${method}"; hermit serve supports ${AUTH_METHOD_NAMES.join(', ')}`);
      }
      return method as AuthMethodName;
    }),
  );
}

/** Throws {@link AuthConfigError} when a chain names a method whose store is not configured. */
export function checkAuthMethodStores(chains: ReadonlyArray<readonly AuthMethodName[]>, stores: { readonly passwordFile: boolean }): void {
  for (const chain of chains) {
    const missing = chain.find((m) => m !== 'publickey' && !stores.passwordFile);
    if (missing !== undefined) throw new AuthConfigError(`authentication method ${missing} (in "${chain.join(',')}") needs --password-file FILE with the users' password hashes (make one with 'hermit hash-password USER')`);
  }
}

export function formatAuthMethods(chains: ReadonlyArray<readonly string[]>): string {
  return chains.map((c) => c.join(',')).join(' ');
}

/** The name of the account running hermit, which may always log in. */
export function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to what the environment says.
    return process.env['USER'] ?? process.env['LOGNAME'] ?? 'root';
  }
}

export function defaultAuthorizedKeysFile(): string {
  return join(process.env['HOME'] || homedir(), '.ssh', 'authorized_keys');
}

export interface ServerAuthConfig {
  /** authorized_keys to consult (default ~/.ssh/authorized_keys of the user running hermit). */
  readonly authorizedKeysFile?: string;
  /** True when the path was given explicitly: then a missing file is a start-up error rather than a warning. */
  readonly authorizedKeysExplicit?: boolean;
  /** CA public keys (one per line) trusted to sign user certificates. */
  readonly trustedUserCaFile?: string;
  /** `user:hash` lines; enables password and keyboard-interactive. */
  readonly passwordFile?: string;
  /** Method chains, parsed with {@link parseAuthMethods}; default {@link DEFAULT_AUTH_METHODS} minus methods without a store. */
  readonly authMethods?: ReadonlyArray<readonly AuthMethodName[]>;
  /** Names that may log in besides the account running hermit. */
  readonly allowUsers?: readonly string[];
  /** Replaces the account name that may always log in (default: the user running hermit). */
  readonly currentUser?: string;
  readonly crypto?: CryptoProvider;
  /** One line per attempt and per configuration warning. */
  readonly log?: (line: string) => void;
  /** Configuration warnings (malformed lines) when `log` is quiet; default: `log`. */
  readonly warn?: (line: string) => void;
  /** Wall clock in unix seconds, for certificate validity and expiry-time (default: the system clock). */
  readonly wallClock?: () => number;
}

/** Where a connection comes from, for `from=`, source-address and the log. */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

type Verdict = { readonly ok: true; readonly policy: SessionPolicy } | { readonly ok: false; readonly reason: string };

/** What a key without options may do (sshd's defaults); certificates narrow it. */
const OPEN_POLICY: SessionPolicy = {
  pty: true,
  portForwarding: true,
  agentForwarding: true,
  x11Forwarding: true,
  userRc: true,
  tunnelForwarding: true,
  permitOpen: null,
  permitListen: null,
  environment: {},
  touchRequired: true,
  verifyRequired: false,
};

/** `::ffff:127.0.0.1` (a v4 client on a dual-stack socket) is 127.0.0.1 for matching and logs. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function describeKey(key: PublicKey): string {
  return `${keyTypeLabel(key)} ${fingerprint(key.blob)}`;
}

function describeCertificate(cert: Certificate): string {
  return `${keyTypeLabel(cert.publicKey)}-CERT ${fingerprint(cert.publicKey.blob)} ID ${JSON.stringify(cert.keyId)} (serial ${cert.serial}) CA ${describeKey(cert.signatureKey)}`;
}

/**
 * A certificate's extensions grant what the session may do, and force-command pins the command
 * (PROTOCOL.certkeys); on top of an authorized_keys line both restrict, and two different forced
 * commands are refused, as sshd does.
 */
function certificatePolicy(cert: Certificate, base: SessionPolicy): SessionPolicy | { readonly error: string } {
  const has = (name: string) => cert.extensions.some((e) => e.name === name);
  const force = cert.criticalOptions.find((o) => o.name === 'force-command')?.value;
  const forced = typeof force === 'string' ? force : undefined;
  if (forced !== undefined && base.forcedCommand !== undefined && forced !== base.forcedCommand) {
    return { error: `the certificate's force-command ${JSON.stringify(forced)} and the authorized_keys command=${JSON.stringify(base.forcedCommand)} differ` };
  }
  const command = forced ?? base.forcedCommand;
  return {
    ...base,
    pty: base.pty && has('permit-pty'),
    portForwarding: base.portForwarding && has('permit-port-forwarding'),
    agentForwarding: base.agentForwarding && has('permit-agent-forwarding'),
    x11Forwarding: base.x11Forwarding && has('permit-X11-forwarding'),
    userRc: base.userRc && has('permit-user-rc'),
    ...(command !== undefined ? { forcedCommand: command } : {}),
    touchRequired: base.touchRequired && !has('no-touch-required'),
    verifyRequired: base.verifyRequired || cert.criticalOptions.some((o) => o.name === 'verify-required'),
  };
}

type Loaded<T> = { readonly value: T } | { readonly error: string };

function fileError(what: string, path: string, err: unknown): string {
  // trust-files already says which file and what to do about it.
  if (err instanceof TrustFileError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'it does not exist' : e.code === 'EACCES' ? `permission denied; make it readable by this user (ls -l ${path})` : e.code === 'EISDIR' ? 'it is a directory, not a file' : e.message;
  return `cannot read ${what} ${path}: ${why}`;
}

/** The server-wide policy. {@link ServerAuthPolicy.create} checks the configuration once at start. */
export class ServerAuthPolicy {
  readonly chains: ReadonlyArray<readonly AuthMethodName[]>;
  readonly allowedUsers: ReadonlySet<string>;
  readonly authorizedKeysFile: string;
  readonly trustedUserCaFile: string | null;
  readonly passwordFile: string | null;
  readonly crypto: CryptoProvider;
  readonly log: (line: string) => void;
  readonly now: () => number;
  private readonly warn: (line: string) => void;
  /** Last warnings printed per file, so that a malformed line is reported once, not per connection. */
  private readonly reported = new Map<string, string>();

  private constructor(config: ServerAuthConfig, chains: ReadonlyArray<readonly AuthMethodName[]>) {
    this.chains = chains;
    this.allowedUsers = new Set([config.currentUser ?? currentUserName(), ...(config.allowUsers ?? [])]);
    this.authorizedKeysFile = config.authorizedKeysFile ?? defaultAuthorizedKeysFile();
    this.trustedUserCaFile = config.trustedUserCaFile ?? null;
    this.passwordFile = config.passwordFile ?? null;
    this.crypto = config.crypto ?? nodeCrypto;
    this.log = config.log ?? (() => {});
    this.warn = config.warn ?? this.log;
    this.now = config.wallClock ?? (() => Math.floor(Date.now() / 1000));
  }

  /**
   * Check the configuration: method chains have their stores, the files given explicitly can be
   * read, and their malformed lines are reported. Throws {@link AuthConfigError} with the fix.
   */
  static async create(config: ServerAuthConfig): Promise<ServerAuthPolicy> {
    const passwordFile = config.passwordFile !== undefined;
    let chains: ReadonlyArray<readonly AuthMethodName[]>;
    if (config.authMethods !== undefined) {
      checkAuthMethodStores(config.authMethods, { passwordFile });
      chains = config.authMethods;
    } else {
      chains = parseAuthMethods(DEFAULT_AUTH_METHODS).filter((chain) => chain.every((m) => m === 'publickey' || passwordFile));
    }
    for (const name of config.allowUsers ?? []) {
      if (name === '' || /[\s:]/.test(name)) throw new AuthConfigError(`--allow-user ${JSON.stringify(name)} is not a user name (it must be non-empty, without blanks or ':')`);
    }
    const policy = new ServerAuthPolicy(config, chains);
    // Load each store once now: a typo in a path fails the start instead of every login.
    const keys = await policy.loadAuthorizedKeys();
    if ('error' in keys) {
      if (config.authorizedKeysExplicit) throw new AuthConfigError(`--authorized-keys: ${keys.error}`, false);
      policy.warn(`warning: ${keys.error}; publickey logins fail until it exists (or give --authorized-keys FILE)`);
    }
    if (policy.trustedUserCaFile !== null) {
      const cas = await policy.loadTrustedCas();
      if ('error' in cas) throw new AuthConfigError(`--trusted-user-ca: ${cas.error}`, false);
      if (cas.value.length === 0) throw new AuthConfigError(`--trusted-user-ca ${policy.trustedUserCaFile} holds no usable CA key; put the CA's .pub line in it`, false);
    }
    if (policy.passwordFile !== null) {
      const passwords = await policy.loadPasswords();
      if ('error' in passwords) throw new AuthConfigError(`--password-file: ${passwords.error}`, false);
      for (const user of passwords.value.keys()) {
        if (!policy.allowedUsers.has(user)) policy.warn(`warning: ${policy.passwordFile} has a password for ${user}, who may not log in; add --allow-user ${user}`);
      }
    }
    return policy;
  }

  /** The decision handler for one connection (the stores are read at most once for it). */
  connection(peer: PeerAddress): ConnectionAuth {
    return new ConnectionAuth(this, { address: normalizeAddress(peer.address), port: peer.port });
  }

  private reportOnce(path: string, warnings: readonly string[]): void {
    const text = warnings.join('\n');
    if (this.reported.get(path) === text) return;
    this.reported.set(path, text);
    for (const w of warnings) this.warn(`warning: ${w}`);
  }

  /** @internal */
  async loadAuthorizedKeys(): Promise<Loaded<readonly AuthorizedKeyEntry[]>> {
    try {
      const file = await loadAuthorizedKeys(this.authorizedKeysFile);
      this.reportOnce(this.authorizedKeysFile, file.warnings.map((w) => w.message));
      return { value: file.entries };
    } catch (err) {
      return { error: fileError('authorized_keys file', this.authorizedKeysFile, err) };
    }
  }

  /** @internal */
  async loadPasswords(): Promise<Loaded<ReadonlyMap<string, string>>> {
    const path = this.passwordFile;
    if (path === null) return { value: new Map() };
    try {
      const file = await loadPasswordFile(path);
      this.reportOnce(path, file.warnings.map((w) => w.message));
      return { value: file.users };
    } catch (err) {
      return { error: fileError('password file', path, err) };
    }
  }

  /** @internal The CA file: one public key per line as in a .pub file; `#` comments and blank lines ignored. */
  async loadTrustedCas(): Promise<Loaded<readonly PublicKey[]>> {
    const path = this.trustedUserCaFile;
    if (path === null) return { value: [] };
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      return { error: fileError('trusted user CA file', path, err) };
    }
    const keys: PublicKey[] = [];
    const warnings: string[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      try {
        keys.push(parsePublicKeyLine(line).key);
      } catch (err) {
        warnings.push(`${path}:${i + 1}: ${(err as Error).message}; the line should be a CA's public key as in its .pub file`);
      }
    });
    this.reportOnce(path, warnings);
    return { value: keys };
  }
}

/** The decisions of one connection. `decide` answers synchronously or with a promise. */
export class ConnectionAuth {
  private readonly completed: string[] = [];
  private readonly usedKeys: PublicKey[] = [];
  private keysLoad: Promise<Loaded<readonly AuthorizedKeyEntry[]>> | null = null;
  private casLoad: Promise<Loaded<readonly PublicKey[]>> | null = null;
  private passwordsLoad: Promise<Loaded<ReadonlyMap<string, string>>> | null = null;
  private invalidLogged = false;

  constructor(
    private readonly policy: ServerAuthPolicy,
    readonly peer: PeerAddress,
  ) {}

  decide(decision: Decision): unknown {
    switch (decision.kind) {
      case 'authMethods':
        if (!this.allowed(decision.username) && !this.invalidLogged) {
          this.invalidLogged = true;
          this.policy.log(`Invalid user ${decision.username} from ${this.peer.address} port ${this.peer.port}`);
        }
        return this.policy.chains.map((c) => [...c]);
      case 'authPublicKey':
        return this.publicKey(decision);
      case 'authPassword':
        return this.password(decision);
      case 'authKeyboardInteractive':
        return this.keyboardInteractive(decision);
      case 'authHostbased':
        // Never offered; the engine only asks when a client tries it anyway.
        this.policy.log(`Failed hostbased for ${this.who(decision.username)} from ${this.from()}: hostbased authentication is not supported`);
        return false;
      default:
        throw new Error(`hermit serve has no answer for ${decision.kind} decisions`);
    }
  }

  private allowed(username: string): boolean {
    return this.policy.allowedUsers.has(username);
  }

  private who(username: string): string {
    return this.allowed(username) ? username : `invalid user ${username}`;
  }

  private from(): string {
    return `${this.peer.address} port ${this.peer.port} ssh2`;
  }

  private authorizedKeys(): Promise<Loaded<readonly AuthorizedKeyEntry[]>> {
    return (this.keysLoad ??= this.policy.loadAuthorizedKeys());
  }

  private trustedCas(): Promise<Loaded<readonly PublicKey[]>> {
    return (this.casLoad ??= this.policy.loadTrustedCas());
  }

  private passwords(): Promise<Loaded<ReadonlyMap<string, string>>> {
    return (this.passwordsLoad ??= this.policy.loadPasswords());
  }

  /** Record a method that succeeded: "Accepted" when it completes a chain, "Partial" when more must follow. */
  private succeeded(method: string, username: string, detail: string): void {
    this.completed.push(method);
    const done = this.policy.chains.some((c) => c.length === this.completed.length && c.every((m, i) => this.completed[i] === m));
    this.policy.log(`${done ? 'Accepted' : 'Partial'} ${method} for ${username} from ${this.from()}${detail}`);
  }

  // ---------------------------------------------------------------- publickey

  private async publicKey(d: AuthPublicKeyDecision): Promise<unknown> {
    let cert: Certificate | null = null;
    if (d.certificate !== undefined) {
      try {
        cert = parseCertificate(d.certificate);
      } catch (err) {
        this.policy.log(`Failed publickey for ${this.who(d.username)} from ${this.from()}: ${d.algorithm} certificate is malformed: ${(err as Error).message}`);
        return false;
      }
    }
    const detail = `: ${cert ? describeCertificate(cert) : describeKey(d.key)} (${d.algorithm})`;
    const fail = (reason: string) => {
      this.policy.log(`Failed publickey for ${this.who(d.username)} from ${this.from()}${detail}: ${reason}`);
      return false;
    };
    if (!this.allowed(d.username)) return fail(`${d.username} may not log in here (allowed: ${[...this.policy.allowedUsers].join(', ')}; add --allow-user ${d.username})`);
    // As sshd: each publickey step of a chain like publickey,publickey needs a different key.
    if (this.usedKeys.some((k) => publicKeysEqual(k, d.key))) return fail('this key already completed an earlier step of the method chain');
    const verdict = cert ? await this.checkCertificate(cert, d.username) : await this.checkKey(d.key);
    if (!verdict.ok) return fail(verdict.reason);
    // A query only asks whether the key would do; the signed request that follows is the attempt.
    if (!d.signed) return true;
    this.usedKeys.push(d.key);
    this.succeeded('publickey', d.username, detail);
    return { accept: true, policy: verdict.policy };
  }

  private async checkKey(key: PublicKey): Promise<Verdict> {
    const file = await this.authorizedKeys();
    if ('error' in file) return { ok: false, reason: file.error };
    const now = this.policy.now();
    const match = findAuthorizedKey(file.value, { key, clientAddress: this.peer.address, now });
    if (match) return { ok: true, policy: match.policy };
    // Say which line almost matched: an operator reading "not authorized" for a key they did add wants to know why.
    const lines = file.value.filter((e) => !e.options.certAuthority && publicKeysEqual(e.key, key));
    if (lines.length === 0) return { ok: false, reason: `key is not in ${this.policy.authorizedKeysFile}` };
    return { ok: false, reason: lines.map((e) => `${e.source}:${e.line}: ${this.whyNot(e, now)}`).join('; ') };
  }

  private whyNot(e: AuthorizedKeyEntry, now: number): string {
    const o = e.options;
    if (o.expiresAt !== undefined && o.expiresAt < now) return `the key expired at ${formatUnixTimeUtc(BigInt(o.expiresAt))} UTC (expiry-time)`;
    return `from="${o.from ?? ''}" does not allow ${this.peer.address}`;
  }

  private async checkCertificate(cert: Certificate, username: string): Promise<Verdict> {
    const now = this.policy.now();
    const reasons: string[] = [];
    const common = { now: BigInt(now), type: 'user' as const, sourceAddress: this.peer.address };

    const cas = await this.trustedCas();
    if ('error' in cas) reasons.push(cas.error);
    else if (cas.value.some((k) => publicKeysEqual(k, cert.signatureKey))) {
      const v = verifyCertificate(this.policy.crypto, cert, { ...common, principal: username, trustedCaKeys: cas.value });
      if (v.ok) return this.withCertificate(cert, OPEN_POLICY);
      reasons.push(v.reason);
    }

    const file = await this.authorizedKeys();
    if ('error' in file) reasons.push(file.error);
    else {
      const match = findAuthorizedKey(file.value, { key: cert.publicKey, certificateCa: cert.signatureKey, clientAddress: this.peer.address, now });
      if (match) {
        const principals = match.policy.principals;
        const v = verifyCertificate(this.policy.crypto, cert, { ...common, trustedCaKeys: [cert.signatureKey], ...(principals !== undefined ? { authorizedPrincipals: principals } : { principal: username }) });
        if (v.ok) return this.withCertificate(cert, match.policy);
        reasons.push(`${match.entry.source}:${match.entry.line}: ${v.reason}`);
      } else {
        const lines = file.value.filter((e) => e.options.certAuthority && publicKeysEqual(e.key, cert.signatureKey));
        for (const e of lines) reasons.push(`${e.source}:${e.line}: ${this.whyNot(e, now)}`);
      }
    }
    if (reasons.length === 0) {
      const where = this.policy.trustedUserCaFile !== null ? `${this.policy.trustedUserCaFile} nor a cert-authority line of ${this.policy.authorizedKeysFile}` : `a cert-authority line of ${this.policy.authorizedKeysFile} (or give --trusted-user-ca FILE)`;
      reasons.push(`certificate is signed by an untrusted CA (${describeKey(cert.signatureKey)}): it is neither in ${where}`);
    }
    return { ok: false, reason: reasons.join('; ') };
  }

  private withCertificate(cert: Certificate, base: SessionPolicy): Verdict {
    const policy = certificatePolicy(cert, base);
    return 'error' in policy ? { ok: false, reason: policy.error } : { ok: true, policy };
  }

  // ---------------------------------------------------------------- passwords

  /**
   * Checks a password against the file. A name without a hash is checked against another line's
   * hash and refused whatever the result, so that both cost the same and timing says nothing
   * about which names have passwords.
   */
  private async checkPassword(username: string, password: string): Promise<{ ok: boolean; reason: string }> {
    const passwords = await this.passwords();
    const hash = 'error' in passwords || !this.allowed(username) ? undefined : passwords.value.get(username);
    const standIn = 'error' in passwords ? undefined : passwords.value.values().next().value;
    const against = hash ?? standIn;
    const matches = against !== undefined && verifyPassword(password, against);
    if ('error' in passwords) return { ok: false, reason: passwords.error };
    if (!this.allowed(username)) return { ok: false, reason: `${username} may not log in here (add --allow-user ${username})` };
    if (hash === undefined) return { ok: false, reason: `${username} has no line in ${this.policy.passwordFile}` };
    if (password === '') return { ok: false, reason: 'empty passwords are refused' };
    return { ok: matches, reason: 'wrong password' };
  }

  private async password(d: AuthPasswordDecision): Promise<boolean> {
    const fail = (reason: string) => {
      this.policy.log(`Failed password for ${this.who(d.username)} from ${this.from()}: ${reason}`);
      return false;
    };
    // We never ask for a change, so a client sending one unasked is refused rather than half-honoured.
    if (d.newPassword !== undefined) return fail('password change is not supported');
    const r = await this.checkPassword(d.username, d.password);
    if (!r.ok) return fail(r.reason);
    this.succeeded('password', d.username, '');
    return true;
  }

  private async keyboardInteractive(d: AuthKeyboardInteractiveDecision): Promise<unknown> {
    // Everyone gets the prompt, known name or not: refusing early would tell the names apart.
    if (d.responses === null) return { name: '', instruction: '', prompts: [{ prompt: 'Password: ', echo: false }] };
    const fail = (reason: string) => {
      this.policy.log(`Failed keyboard-interactive for ${this.who(d.username)} from ${this.from()}: ${reason}`);
      return false;
    };
    if (d.responses.length !== 1) return fail(`expected one answer to the password prompt, got ${d.responses.length}`);
    const r = await this.checkPassword(d.username, d.responses[0]!);
    if (!r.ok) return fail(r.reason);
    this.succeeded('keyboard-interactive', d.username, '');
    return true;
  }
}
