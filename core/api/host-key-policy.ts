/**
 * The client's answer to the engine's `hostKey` decision, from known_hosts files as OpenSSH's ssh
 * gives it (ssh(1) "VERIFYING HOST KEYS", sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", ssh_config(5)
 * StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, HashKnownHosts).
 *
 * The matching itself (patterns, hashed names, `[host]:port`, @revoked, @cert-authority, the
 * StrictHostKeyChecking table) is core's (core/keys/known-hosts.ts); this module reads the files,
 * checks host certificates against the wall clock, asks the user when `ask` says so, and appends
 * accepted new keys. Runtime-neutral: files, the wall clock and randomness come from the
 * {@link Runtime}, questions from the {@link Prompter} the adapter gives.
 *
 * Host certificates (PROTOCOL.certkeys): a certificate is trusted when an `@cert-authority` line
 * for the host (looked up as `[host]:port` for ports other than 22) holds its CA key and the
 * certificate verifies — signature, host type, validity at the current time, and the host name as
 * typed among its principals. A certificate that fails is not an error by itself: like ssh, the
 * certified key is then checked as a plain key, and the refusal (if it comes to that) says why
 * the certificate was not accepted.
 */
import type { HostKeyDecision as HostKeyQuestion } from '../events.ts';
import { verifyCertificate } from '../keys/certificate.ts';
import { asciiLower } from '../keys/host-patterns.ts';
import { fingerprintSha256 } from '../keys/format.ts';
import { parsePublicKeyBlob, type PublicKey } from '../keys/public-key.ts';
import {
  checkHostKey,
  decideHostKey,
  formatKnownHostsLine,
  knownHostKeyTypes,
  knownHostsEntryMatches,
  knownHostsLookupName,
  type HostKeyCheck,
  type HostKeyErrorCode,
  type HostKeyRestrictions,
  type KnownHostsEntry,
  type StrictHostKeyChecking,
  type TrustFileWarning,
} from '../keys/known-hosts.ts';
import type { SignatureCrypto } from '../keys/signature.ts';
import type { RandomSource } from '../crypto/provider.ts';
import { expandTilde, nowhere, type AdapterDefaults, type Prompter, type TextSink } from './prompter.ts';
import type { Runtime } from './runtime.ts';
import { appendKnownHost, loadKnownHosts } from './trust-files.ts';

/** ssh's defaults (ssh_config(5) UserKnownHostsFile / GlobalKnownHostsFile). */
export const DEFAULT_USER_KNOWN_HOSTS_FILES: readonly string[] = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
export const DEFAULT_GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

export interface HostKeyPolicyOptions {
  /** Where files, the wall clock and randomness come from (the adapters fill in their own). */
  readonly runtime?: Runtime;
  /** The host as the user typed it (the name looked up, and the principal a host certificate must carry). */
  readonly host: string;
  readonly port: number;
  /** Files read, in order; the first one is where new keys are added. `none` entries are dropped. */
  readonly userKnownHostsFiles?: readonly string[];
  readonly globalKnownHostsFiles?: readonly string[];
  /** Default `ask`. */
  readonly strictHostKeyChecking?: StrictHostKeyChecking;
  /** UpdateHostKeys: record keys the server proves after login (default true, as OpenSSH with the default known_hosts). */
  readonly updateHostKeys?: boolean;
  /** HashKnownHosts=yes: new lines get a hashed host name. */
  readonly hashKnownHosts?: boolean;
  /** For `ask`; null (or a prompter that is not available) when nobody can be asked. */
  readonly prompter?: Prompter | null;
  /**
   * What `ask` does when nobody can be asked. `refuse` (default) is ssh's behaviour: as `yes`.
   * `unverified` accepts the key for this connection without recording it and marks the verdict
   * as not trustworthy, for callers that only look at the server (hermit probe).
   */
  readonly whenNobodyCanBeAsked?: 'refuse' | 'unverified';
  /** Whether `no` records an unknown key, as ssh does (default true). */
  readonly recordUnknownWhenNotStrict?: boolean;
  /** Home directory for `~/`; default the runtime's. */
  readonly home?: string;
  /** Notes ssh would print (keys added, the changed-key warning under `no`); default: dropped. */
  readonly stderr?: TextSink;
  /** Verifies host certificates; default the runtime's provider. */
  readonly crypto?: SignatureCrypto;
  /** Unix seconds, for certificate validity; default the runtime's wall clock. */
  readonly now?: () => bigint;
  /** Salt for hashed names; default the runtime's random source. */
  readonly random?: RandomSource;
}

/** How the host key came to be accepted. */
export type HostKeyOutcome =
  /** A known_hosts line holds this key. */
  | 'known'
  /** A valid host certificate from an @cert-authority CA. */
  | 'certificate'
  /** Unknown; accepted and appended to the user's known_hosts (accept-new, `no`, or confirmed at the `ask` prompt). */
  | 'added'
  /** Unknown; accepted by StrictHostKeyChecking=no without being recorded. */
  | 'accepted'
  /** Different from the known key, accepted anyway under StrictHostKeyChecking=no, with {@link HostKeyVerdict.restrictions}. */
  | 'changed'
  /** Unknown and nobody could be asked (`whenNobodyCanBeAsked: 'unverified'`): nothing secret should be sent. */
  | 'unverified';

export interface HostKeyVerdict {
  readonly outcome: HostKeyOutcome;
  readonly fingerprint: string;
  /** False when the server is not known to be the right one: send no passwords or other secrets. */
  readonly verified: boolean;
  /** Features to keep off for this connection (a changed key accepted under `no`). */
  readonly restrictions?: HostKeyRestrictions;
  /** Where the trusting line is (`file:line`), for `known` and `certificate`. */
  readonly location?: string;
}

export type HostKeyVerificationErrorCode = HostKeyErrorCode;

/** The host key was refused; the message is the whole explanation (fingerprints, file:line, how to fix). */
export class HostKeyVerificationError extends Error {
  readonly code: HostKeyVerificationErrorCode;
  readonly check: HostKeyCheck;
  constructor(code: HostKeyVerificationErrorCode, message: string, check: HostKeyCheck) {
    super(message);
    this.name = 'HostKeyVerificationError';
    this.code = code;
    this.check = check;
  }
}

/** A known_hosts file list as ssh_config(5) takes it: space-separated, `~/` expanded, `none` meaning no file. */
export function parseKnownHostsFileList(values: readonly string[], home: string): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const word of value.split(/\s+/)) {
      if (word === '' || word.toLowerCase() === 'none') continue;
      out.push(expandTilde(word, home));
    }
  }
  return out;
}

/** Host key algorithms in the engine's order for each plain key type (SHA-1 `ssh-rsa` left out: it is off unless named). */
const ALGORITHMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};
const CERT_ALGORITHMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519-cert-v01@openssh.com'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256-cert-v01@openssh.com'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384-cert-v01@openssh.com'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521-cert-v01@openssh.com'],
  'ssh-rsa': ['rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com'],
};

export class HostKeyPolicy {
  readonly host: string;
  readonly port: number;
  readonly strict: StrictHostKeyChecking;
  /** The files read, in order (user files first). */
  readonly files: readonly string[];
  /** Lines of those files that were skipped, with file:line and why. */
  readonly warnings: readonly TrustFileWarning[];

  private readonly options: HostKeyPolicyOptions;
  private readonly entries: readonly KnownHostsEntry[];
  private readonly userFiles: readonly string[];
  private readonly stderr: TextSink;
  private readonly runtime: Runtime;
  /** The last verified key was trusted by a plain known_hosts line (UpdateHostKeys may learn more). */
  private knownByKey = false;

  protected constructor(runtime: Runtime, options: HostKeyPolicyOptions, userFiles: string[], files: string[], entries: KnownHostsEntry[], warnings: TrustFileWarning[]) {
    this.runtime = runtime;
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.strict = options.strictHostKeyChecking ?? 'ask';
    this.userFiles = userFiles;
    this.files = files;
    this.entries = entries;
    this.warnings = warnings;
    this.stderr = options.stderr ?? nowhere;
  }

  /** Read the known_hosts files (missing ones count as empty). */
  /** Filled in by the adapter's subclass (hermit-ssh/node, hermit-ssh/deno). */
  static defaults: AdapterDefaults = {};

  static async load(options: HostKeyPolicyOptions): Promise<HostKeyPolicy> {
    const runtime = options.runtime ?? this.defaults.runtime;
    if (!runtime) throw new TypeError('HostKeyPolicy.load needs a runtime (hermit-ssh/node and hermit-ssh/deno pass theirs)');
    const stderr = options.stderr ?? this.defaults.stderr;
    if (stderr) options = { ...options, stderr };
    const home = options.home ?? runtime.homeDir();
    const userFiles = parseKnownHostsFileList(options.userKnownHostsFiles ?? DEFAULT_USER_KNOWN_HOSTS_FILES, home);
    const globalFiles = parseKnownHostsFileList(options.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS_FILES, home);
    const files = [...userFiles, ...globalFiles];
    const loaded = await loadKnownHosts(runtime, files);
    return new this(runtime, options, userFiles, files, loaded.entries, loaded.warnings);
  }

  /**
   * Host key algorithms to prefer, as an algorithm option (`^…`), when known_hosts already holds
   * keys for this host: the server then presents a key we know rather than another one of its
   * keys that would look "changed" (OpenSSH orders its offer the same way). Null when nothing
   * is known, so the default order stands.
   */
  preferredHostKeyAlgorithms(): string | null {
    const types = knownHostKeyTypes(this.entries, this.host, this.port);
    if (types.length === 0) return null;
    const names = [knownHostsLookupName(this.host, this.port), knownHostsLookupName(this.host, 22)];
    const hasCa = this.entries.some((e) => e.marker === 'cert-authority' && names.some((n) => knownHostsEntryMatches(e, n)));
    const algorithms: string[] = [];
    for (const type of types) {
      if (hasCa) algorithms.push(...(CERT_ALGORITHMS_FOR_TYPE[type] ?? []));
      algorithms.push(...(ALGORITHMS_FOR_TYPE[type] ?? []));
    }
    return algorithms.length === 0 ? null : `^${algorithms.join(',')}`;
  }

  /**
   * Decide about the server's host key. Resolves with how it was accepted, or rejects with a
   * {@link HostKeyVerificationError} that explains the refusal.
   */
  async verify(question: Pick<HostKeyQuestion, 'hostKey' | 'fingerprint' | 'certificate'>): Promise<HostKeyVerdict> {
    const host = asciiLower(this.host);
    let certificateProblem: string | null = null;
    if (question.certificate) {
      const cert = question.certificate;
      const byCa = checkHostKey(this.entries, { host, port: this.port, key: question.hostKey, certificateAuthority: cert.signatureKey });
      if (byCa.status === 'revoked') this.refuse(byCa, null);
      if (byCa.status === 'trusted-by-ca') {
        const now = this.options.now?.() ?? BigInt(Math.floor(this.runtime.wallClock() / 1000));
        const verdict = verifyCertificate(this.options.crypto ?? this.runtime.crypto, cert, { now, type: 'host', principal: host, trustedCaKeys: [cert.signatureKey] });
        const location = byCa.matches[0]?.location;
        if (verdict.ok) return { outcome: 'certificate', fingerprint: question.fingerprint, verified: true, ...(location ? { location } : {}) };
        certificateProblem = `the host certificate (signed by the @cert-authority key of ${location ?? 'known_hosts'}) was not accepted: ${verdict.reason}`;
      } else {
        certificateProblem = `the host presented a certificate, but no @cert-authority line for ${knownHostsLookupName(host, this.port)} holds its CA key`;
      }
    }

    // A plain key, or a certificate that did not pass: check the key itself (ssh does the same).
    const check = checkHostKey(this.entries, { host, port: this.port, key: question.hostKey });
    const decision = decideHostKey(check, this.strict, { userKnownHostsFile: this.userFiles[0] ?? '~/.ssh/known_hosts' });
    if (decision.accept && (check.status === 'trusted' || check.status === 'trusted-by-ca')) {
      const location = check.matches[0]?.location;
      this.knownByKey = check.status === 'trusted';
      return { outcome: 'known', fingerprint: question.fingerprint, verified: true, ...(location ? { location } : {}) };
    }
    if (decision.accept && check.status === 'changed') {
      if (decision.warning) this.stderr.write(`${decision.warning}\n`);
      return { outcome: 'changed', fingerprint: question.fingerprint, verified: false, ...(decision.restrictions ? { restrictions: decision.restrictions } : {}) };
    }
    if (decision.accept && check.status === 'unknown') {
      if (this.strict === 'no' && this.options.recordUnknownWhenNotStrict === false) {
        return { outcome: 'accepted', fingerprint: question.fingerprint, verified: true };
      }
      await this.record(check);
      return { outcome: 'added', fingerprint: question.fingerprint, verified: true };
    }
    if (decision.confirm && check.status === 'unknown') {
      const prompter = this.options.prompter;
      if (!prompter || !prompter.available) {
        if (this.options.whenNobodyCanBeAsked === 'unverified') return { outcome: 'unverified', fingerprint: question.fingerprint, verified: false };
        this.refuse(check, certificateProblem, decision.error?.message);
      }
      if (await this.confirm(decision.confirm.prompt, check.fingerprint, prompter)) {
        await this.record(check);
        return { outcome: 'added', fingerprint: question.fingerprint, verified: true };
      }
    }
    this.refuse(check, certificateProblem, decision.error?.message);
  }

  /**
   * UpdateHostKeys (OpenSSH PROTOCOL 2.5, hostkeys-00@openssh.com): of the keys the server
   * announced after login, those known_hosts does not hold yet for this host, to be proved. Only
   * when this connection's key was trusted by a plain known_hosts line (not a certificate, not a
   * changed key accepted anyway) and keys are recorded at all (a user file, not StrictHostKeyChecking=no).
   */
  newHostKeys(blobs: readonly Uint8Array[]): Uint8Array[] {
    if (!this.knownByKey || this.userFiles.length === 0 || this.options.updateHostKeys === false) return [];
    const host = asciiLower(this.host);
    const out: Uint8Array[] = [];
    for (const blob of blobs) {
      let key: PublicKey;
      try {
        key = parsePublicKeyBlob(blob);
      } catch {
        continue; // a key type we do not implement: nothing to record
      }
      // Not there yet (a known key of another type makes it look "changed" to the check: still new here); never a revoked one.
      const status = checkHostKey(this.entries, { host, port: this.port, key }).status;
      if (status === 'unknown' || status === 'changed') out.push(blob);
    }
    return out;
  }

  /** Record keys the server proved it holds (after {@link newHostKeys}), as ssh does: one line each in the user file. */
  async learnHostKeys(blobs: readonly Uint8Array[]): Promise<void> {
    const file = this.userFiles[0];
    if (file === undefined) return;
    const host = asciiLower(this.host);
    const name = knownHostsLookupName(host, this.port);
    for (const blob of blobs) {
      const key = parsePublicKeyBlob(blob);
      const line = formatKnownHostsLine(host, this.port, key, this.options.hashKnownHosts ? { hash: true, random: this.options.random ?? this.runtime.random } : {});
      try {
        await appendKnownHost(this.runtime, file, line);
      } catch (err) {
        this.stderr.write(`Warning: could not record a new host key of ${name} in ${file}: ${(err as Error).message}\n`);
        return;
      }
      this.stderr.write(`Learned new hostkey: ${key.type} ${fingerprintSha256(blob)} for ${name} (added to ${file})\n`);
    }
  }

  /** ssh's question: yes, no, or the fingerprint itself (which counts as yes). */
  private async confirm(prompt: string, fingerprint: string, prompter: Prompter): Promise<boolean> {
    let text = prompt.replace(/\(yes\/no\)\? $/, '(yes/no/[fingerprint])? ');
    for (let attempt = 0; attempt < 3; attempt++) {
      // A typed answer, as ssh reads it (not SSH_ASKPASS_PROMPT=confirm, whose yes/no buttons print nothing).
      const answer = await prompter.ask({ prompt: text, echo: true, what: `whether to trust the host key ${fingerprint}` });
      if (answer === null) return false;
      const a = answer.trim();
      if (a.toLowerCase() === 'yes' || a === fingerprint) return true;
      if (a.toLowerCase() === 'no') return false;
      text = "Please type 'yes', 'no' or the fingerprint: ";
    }
    return false;
  }

  private async record(check: HostKeyCheck): Promise<void> {
    const file = this.userFiles[0];
    const name = knownHostsLookupName(asciiLower(this.host), this.port);
    if (file === undefined) {
      this.stderr.write(`Warning: not recording the host key of ${name}: UserKnownHostsFile is none.\n`);
      return;
    }
    const line = formatKnownHostsLine(asciiLower(this.host), this.port, check.key, this.options.hashKnownHosts ? { hash: true, random: this.options.random ?? this.runtime.random } : {});
    try {
      await appendKnownHost(this.runtime, file, line);
    } catch (err) {
      // As ssh: failing to record does not stop a connection the user chose to accept.
      this.stderr.write(`Warning: could not add the host key of ${name} to ${file}: ${(err as Error).message}\n`);
      return;
    }
    this.stderr.write(`Warning: Permanently added '${name}' (${check.keyType}) to the list of known hosts (${file}).\n`);
  }

  private refuse(check: HostKeyCheck, certificateProblem: string | null, message?: string): never {
    const decided = decideHostKey(check, this.strict === 'no' ? 'yes' : this.strict, { userKnownHostsFile: this.userFiles[0] ?? '~/.ssh/known_hosts' });
    const error = decided.error;
    const code: HostKeyErrorCode = error?.code ?? (check.status === 'revoked' ? 'HOST_KEY_REVOKED' : check.status === 'changed' ? 'HOST_KEY_CHANGED' : 'HOST_KEY_UNKNOWN');
    let text = message ?? error?.message ?? `Host key verification failed for ${knownHostsLookupName(check.host, check.port)}`;
    if (certificateProblem !== null) text += `\nNote: ${certificateProblem}.`;
    const skipped = this.warnings.filter((w) => w.code === 'invalid-line');
    if (check.status === 'unknown' && skipped.length > 0) {
      text += `\nThese known_hosts lines were skipped as invalid:\n${skipped.map((w) => `  ${w.message}`).join('\n')}`;
    }
    throw new HostKeyVerificationError(code, text, check);
  }
}
