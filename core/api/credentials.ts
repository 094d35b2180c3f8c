/**
 * Client credentials the way OpenSSH's ssh gathers and uses them (ssh(1) -i, ssh_config(5)
 * IdentityFile, IdentitiesOnly, IdentityAgent, PreferredAuthentications, PubkeyAuthentication,
 * PasswordAuthentication, KbdInteractiveAuthentication, NumberOfPasswordPrompts, BatchMode):
 * builds the engine's `clientAuth` options and answers its `sign`, `password`, `passwordChange`
 * and `keyboardInteractive` decisions (RFC 4252 sections 7-8, RFC 4256).
 *
 * Identities, in the order they are offered:
 * 1. the agent's keys (SSH_AUTH_SOCK or IdentityAgent), in the agent's order; an agent key that is
 *    also an identity file takes that file's place here, certificate included. With
 *    IdentitiesOnly=yes only the agent keys that are also identity files are kept;
 * 2. the remaining identity files: the `-i`/IdentityFile files, or when none was named the default
 *    files that exist (~/.ssh/id_rsa, id_ecdsa, id_ed25519, OpenSSH 9.2's order). Each file's
 *    `FILE-cert.pub` (a user certificate for the same key) is offered before the plain key.
 *
 * 0. before them, the certificates named by CertificateFile (`certificateFiles`, `certificates`),
 *    each signed by the agent or identity file that holds the key it certifies (as ssh does).
 *
 * A file key's public half comes from `FILE.pub` (or the key file itself when it is not
 * encrypted), so nothing is decrypted until the server has said it would accept the key (PK_OK):
 * only then is the passphrase asked. Keys the agent holds are signed by the agent, with the
 * rsa-sha2 flag that matches the algorithm the server takes; file keys are signed here.
 *
 * Runtime-neutral: files, the agent socket and the environment come from the {@link Runtime};
 * questions go to the {@link Prompter} the adapter gives (the terminal / SSH_ASKPASS in io-node).
 */
import { DEFAULT_CLIENT_AUTH_METHODS, type ClientAuthMethod, type ClientAuthOptions, type ClientPublicKey } from '../auth/client.ts';
import type {
  Decision,
  KeyboardInteractiveDecision,
  PasswordChangeDecision,
  PasswordDecision,
  SignDecision,
} from '../events.ts';
import { parseCertificate, parseCertificateLine } from '../keys/certificate.ts';
import { KeyFormatError } from '../keys/errors.ts';
import { fingerprintSha256 } from '../keys/format.ts';
import { parsePublicKey, privateKeyFormat } from '../keys/load.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { bytesEqual, publicKeysEqual, type PublicKey } from '../keys/public-key.ts';
import { sign, type SignatureCrypto } from '../keys/signature.ts';
import type { AgentRsaAlgorithm } from '../agent/client.ts';
import { RuntimeAgent } from './agent.ts';
import { readPrivateKeyFile, readUserCertificate, type CertificateSource } from './key-files.ts';
import { expandTilde, noPrompter, nowhere, type AdapterDefaults, type Prompter, type TextSink } from './prompter.ts';
import type { Runtime } from './runtime.ts';

/** The authentication methods hermit can use as a client; others named in PreferredAuthentications are skipped. */
export const USABLE_METHODS: readonly ClientAuthMethod[] = ['publickey', 'keyboard-interactive', 'password'];
/** Method names ssh knows that hermit does not do; accepted in PreferredAuthentications and skipped. */
export const IGNORED_METHODS: readonly string[] = ['gssapi-with-mic', 'hostbased', 'none'];

/** OpenSSH 9.2's default identity files (ssh(1) -i), of the types hermit implements. */
export const DEFAULT_IDENTITY_FILES: readonly string[] = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519'];

export interface ClientCredentialOptions {
  /** Where files, the agent and the environment come from (the adapters fill in their own). */
  readonly runtime?: Runtime;
  readonly username: string;
  /** The host as the user typed it: only for prompts (`alice@host's password:`). */
  readonly host: string;
  /** `-i` / IdentityFile paths in order (`~/` expanded). Empty or absent: the default files. */
  readonly identityFiles?: readonly string[];
  /** Without `identityFiles`, try ssh's default files (~/.ssh/id_rsa, id_ecdsa, id_ed25519); default true. */
  readonly defaultIdentityFiles?: boolean;
  /** CertificateFile paths, or certificates given as objects, blobs or lines: offered first, signed by the file or agent key they certify. */
  readonly certificateFiles?: ReadonlyArray<CertificateSource>;
  /** Whether a certificate whose key no file or agent holds is reported on `stderr` (default true; connect checks its key objects first). */
  readonly reportUnmatchedCertificates?: boolean;
  /** IdentitiesOnly=yes: of the agent's keys, use only those that are identity files. */
  readonly identitiesOnly?: boolean;
  /** The agent socket: undefined → SSH_AUTH_SOCK; null → no agent (IdentityAgent=none). */
  readonly identityAgent?: string | null;
  /** The agent was asked for explicitly (-A): not reaching it is an error rather than a skip. */
  readonly requireAgent?: boolean;
  /** PreferredAuthentications, in order. Default publickey, keyboard-interactive, password. */
  readonly preferredAuthentications?: readonly string[];
  readonly pubkeyAuthentication?: boolean;
  readonly passwordAuthentication?: boolean;
  readonly kbdInteractiveAuthentication?: boolean;
  /** How often to ask for a password / keyboard-interactive answers / a passphrase (default 3). */
  readonly numberOfPasswordPrompts?: number;
  /** PubkeyAcceptedAlgorithms: the signature algorithms user keys may sign with. */
  readonly pubkeyAcceptedAlgorithms?: readonly string[];
  /** BatchMode=yes: never ask anything; methods that need an answer are not tried. */
  readonly batchMode?: boolean;
  /** Where questions go (passwords, passphrases); default nobody can be asked. */
  readonly prompter?: Prompter;
  /** The passphrase of encrypted identity files, or a function asked per file and attempt (null: skip the key). Tried before the prompter. */
  readonly passphrase?: string | ((path: string, attempt: number) => string | null | Promise<string | null>);
  /** Home directory for `~/` (default the runtime's). */
  readonly home?: string;
  /** Environment (SSH_AUTH_SOCK, $VAR in IdentityAgent); default the runtime's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Warnings and notes, as ssh prints them (default: dropped). */
  readonly stderr?: TextSink;
  /** Signs with file keys; default the runtime's provider. */
  readonly crypto?: SignatureCrypto;
}

/** A wrong setting that stops before connecting (exit status 2 in the CLI). */
export class CredentialOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialOptionError';
  }
}

/** The agent was required (-A) but could not be used. */
export class AgentUnavailableError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'AgentUnavailableError';
  }
}

/** One key the client can offer, and how it gets signed. */
export interface Identity {
  readonly key: PublicKey;
  /** A user certificate for `key`, offered instead of the bare key. */
  readonly certificate?: Uint8Array;
  /** The file path, or the agent's comment. */
  readonly comment: string;
  /** The private key file, if there is one. */
  readonly path?: string;
  /** The agent holds the private key: it signs. */
  readonly inAgent: boolean;
  readonly fingerprint: string;
}

export interface UnmatchedCertificate {
  readonly source: string;
  readonly certificate: Uint8Array;
  readonly key: PublicKey;
}

interface FileIdentity {
  readonly path: string;
  readonly key: PublicKey;
  readonly certificate?: Uint8Array;
  /** Set when reading the public half already gave us the private key (an unencrypted file). */
  privateKey?: PrivateKey;
}

/** Parse PreferredAuthentications: known names only, so a typo is reported instead of silently skipped. */
export function parsePreferredAuthentications(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new CredentialOptionError('PreferredAuthentications is empty; list methods such as publickey,keyboard-interactive,password');
  for (const name of names) {
    if (!(USABLE_METHODS as readonly string[]).includes(name) && !IGNORED_METHODS.includes(name)) {
      throw new CredentialOptionError(
        `PreferredAuthentications: unknown method "${name}"; the methods are ${[...USABLE_METHODS, ...IGNORED_METHODS].join(', ')} (hermit skips ${IGNORED_METHODS.join(', ')})`,
      );
    }
  }
  return names;
}

export class ClientCredentials {
  /** What will be offered, in order (for reports and tests). */
  readonly identities: readonly Identity[];
  /** Methods in the order they will be tried. */
  readonly methods: readonly ClientAuthMethod[];
  /** The engine's `clientAuth` option (without the user name, which is the engine's `username`). */
  readonly clientAuth: Omit<ClientAuthOptions, 'username'>;

  private readonly options: ClientCredentialOptions;
  private readonly prompter: Prompter;
  private readonly stderr: TextSink;
  private readonly crypto: SignatureCrypto;
  private readonly runtime: Runtime;
  private readonly agent: RuntimeAgent | null;
  private readonly files: readonly FileIdentity[];
  private interactiveDisabled: string | null = null;
  /** Certificates (CertificateFile) whose key none of the identities holds; connect pairs them with its key objects. */
  unmatchedCertificates: readonly UnmatchedCertificate[] = [];

  protected constructor(init: {
    runtime: Runtime;
    options: ClientCredentialOptions;
    prompter: Prompter;
    methods: ClientAuthMethod[];
    identities: Identity[];
    files: FileIdentity[];
    agent: RuntimeAgent | null;
  }) {
    this.runtime = init.runtime;
    this.options = init.options;
    this.prompter = init.prompter;
    this.stderr = init.options.stderr ?? nowhere;
    this.crypto = init.options.crypto ?? init.runtime.crypto;
    this.agent = init.agent;
    this.files = init.files;
    this.identities = init.identities;
    this.methods = init.methods;
    const publicKeys: ClientPublicKey[] = init.identities.map((id) => ({
      key: id.key,
      comment: id.comment,
      ...(id.certificate ? { certificate: id.certificate } : {}),
    }));
    this.clientAuth = {
      methods: init.methods,
      publicKeys,
      passwordPrompts: init.options.numberOfPasswordPrompts ?? 3,
      ...(init.options.pubkeyAcceptedAlgorithms ? { publicKeyAlgorithms: init.options.pubkeyAcceptedAlgorithms } : {}),
    };
  }

  /** Read the identity files' public halves and the agent's key list. */
  /** Filled in by the adapter's subclass (hermit-ssh/node, hermit-ssh/deno). */
  static defaults: AdapterDefaults = {};

  static async load(options: ClientCredentialOptions): Promise<ClientCredentials> {
    const runtime = options.runtime ?? this.defaults.runtime;
    if (!runtime) throw new TypeError('ClientCredentials.load needs a runtime (hermit-ssh/node and hermit-ssh/deno pass theirs)');
    const adapter = this.defaults;
    const stderrDefault = options.stderr ?? adapter.stderr;
    if (stderrDefault) options = { ...options, stderr: stderrDefault };
    const prompted = options.batchMode || options.prompter ? undefined : adapter.prompter?.({ ...(options.env ? { env: options.env } : {}), ...(options.stderr ? { stderr: options.stderr } : {}) });
    if (prompted) options = { ...options, prompter: prompted };
    const home = options.home ?? runtime.homeDir();
    const env = options.env ?? { SSH_AUTH_SOCK: runtime.env('SSH_AUTH_SOCK') };
    const stderr = options.stderr ?? nowhere;
    const prompter = options.batchMode ? noPrompter : (options.prompter ?? noPrompter);
    const methods = chooseMethods(options, prompter);
    const wantKeys = methods.includes('publickey');

    const explicit = (options.identityFiles ?? []).length > 0;
    const defaults = options.defaultIdentityFiles === false ? [] : DEFAULT_IDENTITY_FILES;
    const paths = (explicit ? options.identityFiles! : defaults).map((p) => expandTilde(p, home));
    const files: FileIdentity[] = [];
    if (wantKeys) {
      for (const path of paths) {
        const found = await readIdentityFile(runtime, path, explicit, stderr);
        for (const f of found) if (!files.some((g) => g.path === f.path && sameOffer(g, f))) files.push(f);
      }
    }

    let agent: RuntimeAgent | null = null;
    const agentKeys: Array<{ key: PublicKey; certificate?: Uint8Array; comment: string }> = [];
    const socketPath = resolveAgentSocket(options.identityAgent, (name) => (name === 'SSH_AUTH_SOCK' && options.env === undefined ? runtime.env(name) : env[name]), home);
    if (options.requireAgent && socketPath === null) {
      throw new AgentUnavailableError(
        options.identityAgent === null
          ? '-A asks for the agent but IdentityAgent=none turns it off; drop one of them'
          : '-A asks for the agent but SSH_AUTH_SOCK is not set; start one with `eval $(ssh-agent)` and add keys with ssh-add',
      );
    }
    if (wantKeys && socketPath !== null) {
      const candidate = new RuntimeAgent({ runtime, socketPath, crypto: options.crypto ?? runtime.crypto });
      try {
        for (const identity of await candidate.list()) {
          if (identity.key !== null) {
            agentKeys.push({ key: identity.key, comment: identity.comment });
            continue;
          }
          // Agents hold certificates too (ssh-add adds FILE-cert.pub beside FILE).
          if (identity.keyType.endsWith('-cert-v01@openssh.com')) {
            try {
              const cert = parseCertificate(identity.blob);
              if (cert.certType === 'user') agentKeys.push({ key: cert.publicKey, certificate: identity.blob, comment: identity.comment });
            } catch {
              // A certificate type we do not implement: the agent may keep it, we cannot offer it.
            }
          }
        }
        agent = candidate;
      } catch (err) {
        await candidate.close();
        if (options.requireAgent) {
          throw new AgentUnavailableError(`-A: cannot use the agent at ${socketPath}: ${(err as Error).message}`, { cause: err });
        }
        // ssh carries on without an agent it cannot reach, and so do we.
      }
    }

    const identities = orderIdentities(files, agentKeys, options.identitiesOnly === true);
    const unmatched: UnmatchedCertificate[] = [];
    if (wantKeys && (options.certificateFiles ?? []).length > 0) {
      const certified: Identity[] = [];
      for (const given of options.certificateFiles!) {
        let read: Awaited<ReturnType<typeof readUserCertificate>>;
        try {
          read = await readUserCertificate(runtime, typeof given === 'string' && !given.includes('\n') ? expandTilde(given, home) : given);
        } catch (err) {
          stderr.write(`hermit: ignoring certificate: ${(err as Error).message}\n`);
          continue;
        }
        const { certificate, source } = read;
        const holder = identities.find((id) => id.certificate === undefined && publicKeysEqual(id.key, certificate.publicKey));
        if (!holder) {
          unmatched.push({ source, certificate: certificate.blob, key: certificate.publicKey });
          if (options.reportUnmatchedCertificates !== false) stderr.write(`hermit: ignoring certificate ${source}: no identity file or agent key holds the key it certifies (give that key with -i / IdentityFile, or ssh-add it)\n`);
          continue;
        }
        const offer: Identity = { ...holder, certificate: certificate.blob, comment: source };
        if (!certified.some((c) => sameOffer(c, offer)) && !identities.some((c) => sameOffer(c, offer))) certified.push(offer);
      }
      identities.unshift(...certified);
    }
    const credentials = new this({ runtime, options, prompter, methods, identities, files, agent });
    credentials.unmatchedCertificates = unmatched;
    return credentials;
  }

  /**
   * After a host key that does not match known_hosts was accepted anyway (StrictHostKeyChecking=no),
   * ssh refuses to type passwords into the connection: answer such decisions with null from now on.
   */
  disableInteractive(reason: string): void {
    this.interactiveDisabled = reason;
  }

  /** Whether this decision is one of ours (sign, password, passwordChange, keyboardInteractive). */
  handles(decision: Decision): boolean {
    return decision.kind === 'sign' || decision.kind === 'password' || decision.kind === 'passwordChange' || decision.kind === 'keyboardInteractive';
  }

  /** The answer to a decision {@link handles} accepts. */
  async answer(decision: Decision): Promise<unknown> {
    switch (decision.kind) {
      case 'sign':
        return this.sign(decision);
      case 'password':
        return this.password(decision);
      case 'passwordChange':
        return this.passwordChange(decision);
      case 'keyboardInteractive':
        return this.keyboardInteractive(decision);
      default:
        throw new Error(`ClientCredentials cannot answer a ${decision.kind} decision`);
    }
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }

  // ---- signing ----------------------------------------------------------------------------------

  private async sign(decision: SignDecision): Promise<Uint8Array | null> {
    if (decision.purpose !== 'publickey') return null;
    const identity = this.identities.find(
      (id) => publicKeysEqual(id.key, decision.key) && (decision.certificate ? id.certificate !== undefined && bytesEqual(id.certificate, decision.certificate) : id.certificate === undefined),
    );
    if (!identity) return null;
    if (identity.inAgent && this.agent) return this.signWithAgent(identity, decision);
    if (identity.path !== undefined) return this.signWithFile(identity.path, decision);
    return null;
  }

  private async signWithAgent(identity: Identity, decision: SignDecision): Promise<Uint8Array | null> {
    try {
      const rsaFlag = decision.key.type === 'ssh-rsa' ? { algorithm: decision.algorithm as AgentRsaAlgorithm } : {};
      const signature = await this.agent!.sign(decision.key, decision.data, rsaFlag);
      if (signature.algorithm !== decision.algorithm) {
        this.stderr.write(`hermit: the agent signed with ${signature.algorithm} for ${identity.comment}, but the server takes ${decision.algorithm}; skipping that key (update ssh-agent)\n`);
        return null;
      }
      return signature.blob;
    } catch (err) {
      // As ssh: a refused signature (e.g. a confirm-constrained key the user declined) skips the key.
      this.stderr.write(`hermit: the agent could not sign with ${identity.comment} (${identity.fingerprint}): ${(err as Error).message}\n`);
      return null;
    }
  }

  private async signWithFile(path: string, decision: SignDecision): Promise<Uint8Array | null> {
    const file = this.files.find((f) => f.path === path && publicKeysEqual(f.key, decision.key));
    const privateKey = file?.privateKey ?? (await this.loadPrivateKey(path, decision.key));
    if (privateKey === null) return null;
    if (file) file.privateKey = privateKey;
    return sign(this.crypto, privateKey, decision.algorithm, decision.data);
  }

  /** Read (and if need be decrypt) the private key for `key` from `path`; null to skip the key. */
  private async loadPrivateKey(path: string, key: PublicKey): Promise<PrivateKey | null> {
    const pick = (keys: readonly PrivateKey[]): PrivateKey | null => {
      const found = keys.find((k) => publicKeysEqual(k.publicKey, key));
      if (!found) this.stderr.write(`hermit: ${path} does not hold the private key of ${path}.pub (${fingerprintSha256(key.blob)}); skipping it\n`);
      return found ?? null;
    };
    try {
      return pick(await readPrivateKeyFile(this.runtime, path));
    } catch (err) {
      if (!(err instanceof KeyFormatError && err.code === 'KEY_ENCRYPTED')) {
        this.stderr.write(`hermit: cannot load key ${path}: ${(err as Error).message}\n`);
        return null;
      }
    }
    // As ssh: NumberOfPasswordPrompts also bounds passphrase attempts (0: encrypted keys are skipped).
    const attempts = this.options.numberOfPasswordPrompts ?? 3;
    const given = this.options.passphrase;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const passphrase =
        typeof given === 'string'
          ? attempt === 1
            ? given
            : null
          : given
            ? await given(path, attempt)
            : await this.prompter.ask({ prompt: `Enter passphrase for key '${path}': `, what: `the passphrase of ${path}` });
      if (passphrase === null || passphrase === '') return null;
      try {
        return pick(await readPrivateKeyFile(this.runtime, path, { passphrase }));
      } catch (err) {
        if (err instanceof KeyFormatError && err.code === 'KEY_PASSPHRASE_WRONG') {
          this.stderr.write(`Bad passphrase for ${path}${attempt < attempts ? ', try again' : ''}.\n`);
          continue;
        }
        this.stderr.write(`hermit: cannot load key ${path}: ${(err as Error).message}\n`);
        return null;
      }
    }
    return null;
  }

  // ---- passwords and keyboard-interactive -------------------------------------------------------

  private refusedInteractive(): boolean {
    if (this.interactiveDisabled === null) return false;
    this.stderr.write(`hermit: not sending a password: ${this.interactiveDisabled}\n`);
    return true;
  }

  private target(username: string): string {
    return `${username}@${this.options.host}`;
  }

  private async password(decision: PasswordDecision): Promise<string | null> {
    if (this.refusedInteractive()) return null;
    const who = this.target(decision.username);
    return this.prompter.ask({ prompt: `${who}'s password: `, what: `the password of ${who}` });
  }

  private async passwordChange(decision: PasswordChangeDecision): Promise<{ oldPassword: string; newPassword: string } | null> {
    if (this.refusedInteractive()) return null;
    const who = this.target(decision.username);
    if (decision.prompt) this.stderr.write(`${decision.prompt.replace(/\s+$/, '')}\n`);
    const oldPassword = await this.prompter.ask({ prompt: `Enter ${who}'s old password: `, what: `the old password of ${who}` });
    if (oldPassword === null) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const newPassword = await this.prompter.ask({ prompt: `Enter ${who}'s new password: `, what: `a new password for ${who}` });
      if (newPassword === null) return null;
      const again = await this.prompter.ask({ prompt: `Retype ${who}'s new password: `, what: `the new password for ${who} again` });
      if (again === null) return null;
      if (again === newPassword) return { oldPassword, newPassword };
      this.stderr.write('Mismatch; try again.\n');
    }
    return null;
  }

  private async keyboardInteractive(decision: KeyboardInteractiveDecision): Promise<string[] | null> {
    if (this.refusedInteractive()) return null;
    // ssh shows the server's name and instruction before the prompts.
    if (decision.name) this.stderr.write(`${decision.name}\n`);
    if (decision.instruction) this.stderr.write(`${decision.instruction.replace(/\s+$/, '')}\n`);
    const answers: string[] = [];
    const who = this.target(decision.username);
    for (const p of decision.prompts) {
      const answer = await this.prompter.ask({ prompt: p.prompt, echo: p.echo, what: `the answer to "${p.prompt.trim()}" for ${who}` });
      if (answer === null) return null;
      answers.push(answer);
    }
    return answers;
  }
}

// ---- building blocks ----------------------------------------------------------------------------

/**
 * The methods to try. A method that needs an answer from the user (password, keyboard-interactive)
 * is left out when nobody can be asked (BatchMode, or no terminal and no SSH_ASKPASS) — unless
 * PreferredAuthentications names it, in which case the prompt says why it cannot ask.
 */
function chooseMethods(options: ClientCredentialOptions, prompter: Prompter): ClientAuthMethod[] {
  const named = options.preferredAuthentications;
  const order = (named ?? DEFAULT_CLIENT_AUTH_METHODS).filter((m): m is ClientAuthMethod => (USABLE_METHODS as readonly string[]).includes(m));
  const off: Record<string, boolean | undefined> = {
    publickey: options.pubkeyAuthentication === false,
    password: options.passwordAuthentication === false,
    'keyboard-interactive': options.kbdInteractiveAuthentication === false,
  };
  const canAsk = !options.batchMode && (named !== undefined || prompter.available);
  return [...new Set(order)].filter((m) => !off[m] && (m === 'publickey' || canAsk));
}

function resolveAgentSocket(identityAgent: string | null | undefined, env: (name: string) => string | undefined, home: string): string | null {
  if (identityAgent === null) return null;
  if (identityAgent === undefined || identityAgent === 'SSH_AUTH_SOCK') return env('SSH_AUTH_SOCK') || null;
  // ssh_config(5): IdentityAgent may name an environment variable as $NAME or ${NAME}.
  const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(identityAgent);
  if (variable) return env(variable[1]!) || null;
  return expandTilde(identityAgent, home);
}

function sameOffer(a: { key: PublicKey; certificate?: Uint8Array }, b: { key: PublicKey; certificate?: Uint8Array }): boolean {
  if (!publicKeysEqual(a.key, b.key)) return false;
  if (a.certificate === undefined || b.certificate === undefined) return a.certificate === b.certificate;
  return bytesEqual(a.certificate, b.certificate);
}

async function readText(runtime: Runtime, path: string): Promise<string | null> {
  try {
    return new TextDecoder().decode(await runtime.readFile(path));
  } catch {
    return null;
  }
}

/**
 * The offers one identity file makes: its certificate (FILE-cert.pub) first when there is one for
 * the same key, then the key. Problems are reported like ssh does and the file is skipped; a
 * missing default file is not a problem.
 */
async function readIdentityFile(runtime: Runtime, path: string, explicit: boolean, stderr: TextSink): Promise<FileIdentity[]> {
  let key: PublicKey | null = null;
  let privateKey: PrivateKey | undefined;
  const pub = await readText(runtime, `${path}.pub`);
  if (pub !== null) {
    try {
      key = parsePublicKey(pub, { source: `${path}.pub` }).key;
    } catch (err) {
      stderr.write(`hermit: ignoring ${path}.pub: ${(err as Error).message}\n`);
    }
  }
  if (key === null) {
    const text = await readText(runtime, path);
    if (text === null) {
      if (explicit) stderr.write(`Warning: Identity file ${path} not accessible: No such file or directory.\n`);
      return [];
    }
    if (privateKeyFormat(text) === null) {
      // ssh also takes a public key as -i: its private half must then be in the agent.
      try {
        key = parsePublicKey(text, { source: path }).key;
      } catch (err) {
        stderr.write(`hermit: cannot use identity file ${path}: ${(err as Error).message}\n`);
        return [];
      }
    } else {
      try {
        const keys = await readPrivateKeyFile(runtime, path);
        privateKey = keys[0];
        key = privateKey?.publicKey ?? null;
      } catch (err) {
        if (err instanceof KeyFormatError && err.code === 'KEY_ENCRYPTED') {
          stderr.write(`hermit: ${path} is encrypted and has no ${path}.pub beside it; create it with: ssh-keygen -y -f ${path} > ${path}.pub\n`);
        } else {
          stderr.write(`hermit: cannot use identity file ${path}: ${(err as Error).message}\n`);
        }
        return [];
      }
    }
  }
  if (key === null) return [];

  const out: FileIdentity[] = [];
  const certText = await readText(runtime, `${path}-cert.pub`);
  if (certText !== null) {
    try {
      const { certificate } = parseCertificateLine(certText.split('\n', 1)[0] ?? '');
      if (certificate.certType !== 'user') stderr.write(`hermit: ignoring ${path}-cert.pub: it is a host certificate, not a user certificate\n`);
      else if (!publicKeysEqual(certificate.publicKey, key)) stderr.write(`hermit: ignoring ${path}-cert.pub: it certifies a different key than ${path}\n`);
      else out.push({ path, key, certificate: certificate.blob, ...(privateKey ? { privateKey } : {}) });
    } catch (err) {
      stderr.write(`hermit: ignoring ${path}-cert.pub: ${(err as Error).message}\n`);
    }
  }
  out.push({ path, key, ...(privateKey ? { privateKey } : {}) });
  return out;
}

/** OpenSSH's order (sshconnect2.c pubkey_prepare): agent keys first, file keys held by the agent in the agent's place. */
function orderIdentities(
  files: readonly FileIdentity[],
  agentKeys: ReadonlyArray<{ key: PublicKey; certificate?: Uint8Array; comment: string }>,
  identitiesOnly: boolean,
): Identity[] {
  const out: Identity[] = [];
  const used = new Set<FileIdentity>();
  const add = (id: Identity) => {
    if (!out.some((o) => sameOffer(o, id))) out.push(id);
  };
  const plainInAgent = (key: PublicKey) => agentKeys.some((a) => a.certificate === undefined && publicKeysEqual(a.key, key));
  const fromFile = (f: FileIdentity, inAgent: boolean): Identity => ({
    key: f.key,
    comment: f.path,
    path: f.path,
    inAgent,
    fingerprint: fingerprintSha256(f.key.blob),
    ...(f.certificate ? { certificate: f.certificate } : {}),
  });
  const fromAgent = (a: { key: PublicKey; certificate?: Uint8Array; comment: string }): Identity => ({
    key: a.key,
    comment: a.comment,
    inAgent: true,
    fingerprint: fingerprintSha256(a.key.blob),
    ...(a.certificate ? { certificate: a.certificate } : {}),
  });
  for (const a of agentKeys) {
    // Agent certificates are placed before their plain key below; the agent signs for them with
    // that key, so a certificate whose key the agent does not hold is of no use.
    if (a.certificate) continue;
    const matching = files.filter((f) => publicKeysEqual(f.key, a.key) && !used.has(f));
    if (matching.length > 0) {
      for (const f of matching) {
        used.add(f);
        add(fromFile(f, true));
      }
      continue;
    }
    if (identitiesOnly) continue;
    for (const c of agentKeys) if (c.certificate && publicKeysEqual(c.key, a.key)) add(fromAgent(c));
    add(fromAgent(a));
  }
  for (const f of files) if (!used.has(f)) add(fromFile(f, plainInAgent(f.key)));
  return out;
}
