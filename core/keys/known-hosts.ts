/**
 * known_hosts files: parsing, host key checking and new lines, as sshd(8) "SSH_KNOWN_HOSTS FILE
 * FORMAT" describes them, and the StrictHostKeyChecking decision of ssh_config(5).
 *
 * A line is `[marker] hostnames keytype base64-key [comment]`:
 * - marker: `@cert-authority` (the key is a CA trusted for host certificates of those hosts) or
 *   `@revoked` (the key must never be accepted); at most one.
 * - hostnames: a comma-separated pattern-list (`*`, `?`, `!negation`; see host-patterns.ts), where
 *   a host on a port other than 22 is written `[host]:port`; or one hashed name `|1|salt|hash`,
 *   where hash = HMAC-SHA1(key = salt, message = the name as it would be written in clear).
 * - `#` comments and blank lines are ignored.
 *
 * Parsing is lenient like OpenSSH: a bad line is skipped and reported in `warnings` (file:line,
 * what is wrong, how to fix it) rather than failing the whole file. Lines whose key we cannot use
 * (ssh-dss, FIDO `sk-` keys, certificates, RSA below 1024 bits) are kept with `key: null`: they
 * still count as "a different key is known for this host", so an attacker cannot turn a host known
 * only by such a key into an "unknown" host and have it accepted as new.
 *
 * Checking follows OpenSSH's client (measured against OpenSSH 9.2, see known-hosts.test.ts):
 * - `@revoked` wins over everything, for the host key and for the CA that signed a certificate.
 * - A certificate whose CA is listed `@cert-authority` for the host is 'trusted-by-ca'; otherwise
 *   the certified key is checked like a plain key (OpenSSH retries without the certificate).
 * - A plain key listed for the host is 'trusted'. If other keys are listed for the host but not
 *   this one, the status is 'changed' — whatever their key types. (OpenSSH documents in hostfile.c
 *   that a key of a different type also yields HOST_CHANGED, and `ssh` 9.2 prints "REMOTE HOST
 *   IDENTIFICATION HAS CHANGED" when only an ECDSA key is known and the server offers Ed25519. Its
 *   "keys of different type are already known" prompt is only reached when the known keys are
 *   CA or revoked lines.) To avoid such false alarms OpenSSH prefers, during key exchange, the host
 *   key algorithms it already knows for the host: {@link knownHostKeyTypes} gives that list.
 * - A non-22 port with no entry at all falls back to the entries for the bare host name, which
 *   OpenSSH also does (a key trusted for `host` is trusted for `[host]:2222`).
 *
 * Hashing uses HMAC-SHA1. SHA-1 is otherwise kept out of our algorithm choices, but here it is the
 * fixed, legacy name-hiding format OpenSSH reads and writes; it protects nothing cryptographically
 * (it only hides names from a casual reader of the file), so SHA-1's collision weakness is irrelevant.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import type { RandomSource } from '../crypto/provider.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { fingerprintSha256 } from './format.ts';
import { asciiLower, matchHostPatternList } from './host-patterns.ts';
import { bytesEqual, parsePublicKeyBlob, type PublicKey } from './public-key.ts';

// ---------------------------------------------------------------------------------------------
// Shared by the trust-file parsers

/** A line of a trust file that was skipped or is suspicious; `message` is complete and printable. */
export interface TrustFileWarning {
  readonly source: string;
  /** 1-based; 0 when the warning is about the whole file. */
  readonly line: number;
  /**
   * 'unsupported-key-type' lines are normal in real files (ssh-dss, FIDO keys); 'insecure-permissions'
   * (from the adapters, line 0) is about the file rather than a line; the rest are mistakes.
   */
  readonly code: 'invalid-line' | 'unsupported-key-type' | 'never-matches' | 'insecure-permissions';
  /** `file:line: what is wrong; how to fix it`. */
  readonly message: string;
}

export function trustWarning(source: string, line: number, code: TrustFileWarning['code'], what: string): TrustFileWarning {
  return { source, line, code, message: `${line > 0 ? `${source}:${line}` : source}: ${what}` };
}

/** Split text into lines, numbering from 1; a CR before LF is dropped (files edited on Windows). */
export function splitLines(text: string): Array<{ readonly line: number; readonly text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split('\n');
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((t, i) => out.push({ line: i + 1, text: t.endsWith('\r') ? t.slice(0, -1) : t }));
  return out;
}

export type KeyFields = {
  readonly keyType: string;
  readonly keyBlob: Uint8Array;
  /** null when the key type is not one we implement, or when the key is unusable (see `problem`). */
  readonly key: PublicKey | null;
  readonly comment: string;
  /** Why a well-formed blob of a type we implement was refused (an RSA key below 1024 bits, a point off the curve). */
  readonly problem?: string;
};

/** The type named inside a blob (its first SSH string), or null when the blob is not even that. */
function blobTypeName(blob: Uint8Array): string | null {
  if (blob.length < 4) return null;
  const n = ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0;
  if (n === 0 || n > 128 || 4 + n > blob.length) return null;
  let s = '';
  for (let i = 4; i < 4 + n; i++) {
    const c = blob[i]!;
    if (c < 0x21 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Parse `keytype base64 [comment]` (the tail of known_hosts and authorized_keys lines). Returns the
 * fields, or `{ error, unsupported }` with a message that says what is wrong.
 */
export function parseKeyFields(text: string): KeyFields | { readonly error: string; readonly unsupported: boolean } {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text.trim());
  if (!m) return { error: 'expected "<key type> <base64 key> [comment]" but the key is missing or incomplete', unsupported: false };
  const keyType = m[1]!;
  if (/^[0-9]+$/.test(keyType)) {
    return { error: `"${keyType}" where a key type belongs: this is an SSH-1 RSA key, which no current SSH software uses; delete the line`, unsupported: true };
  }
  let keyBlob: Uint8Array;
  try {
    keyBlob = decodeBase64(m[2]!);
  } catch (err) {
    return { error: `the ${keyType} key is not valid base64 (${(err as Error).message}); the line may be truncated — copy the key again from the host's .pub file`, unsupported: false };
  }
  const inner = blobTypeName(keyBlob);
  if (inner === null) return { error: `the ${keyType} key data is not an SSH public key; copy the key again from the host's .pub file`, unsupported: false };
  if (inner !== keyType) return { error: `the line says "${keyType}" but the key inside is "${inner}"; fix the key type word`, unsupported: false };
  const comment = (m[3] ?? '').trim();
  try {
    return { keyType, keyBlob, key: parsePublicKeyBlob(keyBlob), comment };
  } catch (err) {
    const message = (err as Error).message;
    if (message.startsWith('unsupported public key type')) return { keyType, keyBlob, key: null, comment };
    return { keyType, keyBlob, key: null, comment, problem: `the ${keyType} key is invalid (${message})` };
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

export type KnownHostsMarker = 'cert-authority' | 'revoked';

export type KnownHostsNames =
  | { readonly kind: 'patterns'; readonly patterns: string }
  | { readonly kind: 'hashed'; readonly salt: Uint8Array; readonly hash: Uint8Array; readonly text: string };

export interface KnownHostsEntry {
  /** The file name (or other label) given to the parser, for messages. */
  readonly source: string;
  /** 1-based line number. */
  readonly line: number;
  readonly marker: KnownHostsMarker | null;
  readonly names: KnownHostsNames;
  readonly keyType: string;
  readonly keyBlob: Uint8Array;
  /** null for key types we cannot use (ssh-dss, sk-*, certificates): such a line still makes a host "known". */
  readonly key: PublicKey | null;
  readonly comment: string;
}

export interface KnownHostsFile {
  readonly entries: KnownHostsEntry[];
  readonly warnings: TrustFileWarning[];
}

/** `|1|` + base64(salt) + `|` + base64(hash): OpenSSH's only hashed-name format. */
const HASH_MAGIC = '|1|';
const SHA1_LENGTH = 20;

function parseHashedNames(field: string): KnownHostsNames | string {
  if (!field.startsWith(HASH_MAGIC)) {
    return `"${field.slice(0, 24)}…" is not a hashed host name this program knows (only |1|salt|hash exists); delete the line or write the host name in clear`;
  }
  const parts = field.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2 || parts[1]!.includes(',')) {
    return 'a hashed host name must be alone in its field as |1|salt|hash (no commas, no patterns); put other names on their own lines';
  }
  let salt: Uint8Array;
  let hash: Uint8Array;
  try {
    salt = decodeBase64(parts[0]!);
    hash = decodeBase64(parts[1]!);
  } catch {
    return 'the hashed host name is not valid base64; the line is damaged — delete it and re-add the host (ssh-keyscan HOST | ssh-keygen -H -f -)';
  }
  if (salt.length !== SHA1_LENGTH || hash.length !== SHA1_LENGTH) {
    return `a hashed host name needs a ${SHA1_LENGTH}-byte salt and hash (HMAC-SHA1); this one has ${salt.length} and ${hash.length} — delete the line and re-add the host`;
  }
  return { kind: 'hashed', salt, hash, text: field };
}

/** Patterns such as `[host]:22` that the lookup can never produce: OpenSSH writes port 22 without brackets. */
function neverMatchingPattern(patterns: string): string | null {
  for (const p of patterns.split(',')) {
    const m = /^!?\[([^\]]*)\]:0*22$/.exec(p);
    if (m) return `"${p}" never matches: port 22 is looked up as the bare name "${m[1]}"; write it without brackets and port`;
  }
  return null;
}

/**
 * Parse a known_hosts file. `source` names the file in entries and warnings. Never throws for bad
 * content: bad lines are skipped and described in `warnings`.
 */
export function parseKnownHosts(text: string, source: string): KnownHostsFile {
  const entries: KnownHostsEntry[] = [];
  const warnings: TrustFileWarning[] = [];
  for (const { line, text: raw } of splitLines(text)) {
    const warn = (code: TrustFileWarning['code'], what: string) => warnings.push(trustWarning(source, line, code, what));
    let rest = raw.replace(/^[ \t]+/, '');
    if (rest === '' || rest.startsWith('#')) continue;

    let marker: KnownHostsMarker | null = null;
    let markerError: string | null = null;
    while (rest.startsWith('@')) {
      const m = /^(@\S*)[ \t]+/.exec(rest);
      const word = m ? m[1]! : rest;
      if (marker !== null) {
        markerError = `more than one marker ("@${marker}" and "${word}"); a line takes at most one — keep the one you mean`;
        break;
      }
      if (word === '@cert-authority') marker = 'cert-authority';
      else if (word === '@revoked') marker = 'revoked';
      else {
        markerError = `unknown marker "${word}"; the markers are @cert-authority and @revoked (check the spelling, or delete the line)`;
        break;
      }
      if (!m) {
        markerError = `"${word}" is followed by nothing; expected host names and a key after the marker`;
        break;
      }
      rest = rest.slice(m[0].length);
    }
    if (markerError !== null) {
      warn('invalid-line', markerError);
      continue;
    }

    const hostMatch = /^(\S+)[ \t]+(.*)$/.exec(rest);
    if (!hostMatch) {
      warn('invalid-line', 'the line has host names but no key; expected "hostnames keytype base64-key [comment]" (the line may be truncated)');
      continue;
    }
    const field = hostMatch[1]!;
    let names: KnownHostsNames;
    if (field.startsWith('|')) {
      const hashed = parseHashedNames(field);
      if (typeof hashed === 'string') {
        warn('invalid-line', hashed);
        continue;
      }
      names = hashed;
    } else {
      names = { kind: 'patterns', patterns: field };
      const never = neverMatchingPattern(field);
      if (never) warn('never-matches', never);
    }

    const key = parseKeyFields(hostMatch[2]!);
    if ('error' in key) {
      warn(key.unsupported ? 'unsupported-key-type' : 'invalid-line', `${key.error}`);
      continue;
    }
    if (key.problem !== undefined) {
      warn('invalid-line', `${key.problem}; the line still marks its hosts as known (a key from them is reported as changed) — replace it with the host's current key`);
    } else if (key.key === null) {
      warn('unsupported-key-type', `key type "${key.keyType}" is not supported here; the line still marks its hosts as known, so a different key from them is reported as changed`);
    }
    entries.push({ source, line, marker, names, keyType: key.keyType, keyBlob: key.keyBlob, key: key.key, comment: key.comment });
  }
  return { entries, warnings };
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * The name a host is looked up (and recorded) under: the lowercased host name, or `[host]:port`
 * for ports other than 22 (OpenSSH's put_host_port; port 0 also means "default").
 */
export function knownHostsLookupName(host: string, port: number): string {
  const name = asciiLower(host);
  return port === 0 || port === 22 ? name : `[${name}]:${port}`;
}

/** HMAC-SHA1(salt, name), the hash of a `|1|salt|hash` name. */
export function hashKnownHostName(name: string, salt: Uint8Array): Uint8Array {
  return hmac(sha1, salt, new TextEncoder().encode(name));
}

/** Does the entry's host field positively match the (already lowercased, port-decorated) name? */
export function knownHostsEntryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.names.kind === 'hashed') return bytesEqual(hashKnownHostName(name, entry.names.salt), entry.names.hash);
  return matchHostPatternList(name, entry.names.patterns) === 'positive';
}

function lookupNames(host: string, port: number, aliases: readonly string[]): string[] {
  const names = [knownHostsLookupName(host, port)];
  for (const a of aliases) {
    const n = knownHostsLookupName(a, port);
    if (!names.includes(n)) names.push(n);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Checking

export type HostKeyStatus = 'trusted' | 'trusted-by-ca' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyQuery {
  /** The host name as the user gave it (or the HostKeyAlias); compared case-insensitively. */
  readonly host: string;
  readonly port: number;
  /** The host key; for a certificate, the certified key inside it. */
  readonly key: PublicKey;
  /**
   * The CA that signed the host certificate, when the server presented one. The caller must have
   * verified the certificate itself (signature, validity, host type, principals) beforehand.
   */
  readonly certificateAuthority?: PublicKey;
  /** Other names for the same host, e.g. its IP address (OpenSSH's CheckHostIP): a match under any of them counts. */
  readonly hostAliases?: readonly string[];
}

export interface KnownHostMatch {
  readonly entry: KnownHostsEntry;
  /** The looked-up name the entry matched. */
  readonly name: string;
  /** `file:line`. */
  readonly location: string;
}

export interface HostKeyCheck {
  readonly status: HostKeyStatus;
  readonly host: string;
  readonly port: number;
  /** The names looked up, in the form they are written in the file (`[host]:port`, lowercased). */
  readonly lookupNames: readonly string[];
  readonly keyType: string;
  /** SHA256 fingerprint of the presented key. */
  readonly fingerprint: string;
  readonly key: PublicKey;
  readonly certificateAuthority?: PublicKey;
  /**
   * The entries behind the status: the trusting entry ('trusted', 'trusted-by-ca'), the revoking
   * entries ('revoked'), the entries holding the other keys ('changed'); empty for 'unknown'.
   */
  readonly matches: readonly KnownHostMatch[];
  /** 'changed' only: fingerprints of the keys that are known for the host. */
  readonly expectedFingerprints?: readonly string[];
}

function collect(entries: readonly KnownHostsEntry[], names: readonly string[]): KnownHostMatch[] {
  const out: KnownHostMatch[] = [];
  for (const entry of entries) {
    const name = names.find((n) => knownHostsEntryMatches(entry, n));
    if (name !== undefined) out.push({ entry, name, location: `${entry.source}:${entry.line}` });
  }
  return out;
}

type Evaluation = { status: HostKeyStatus; matches: KnownHostMatch[]; expected?: string[] };

function evaluate(matched: readonly KnownHostMatch[], key: PublicKey, ca: PublicKey | undefined): Evaluation {
  const revoked = matched.filter(
    (m) => m.entry.marker === 'revoked' && (bytesEqual(m.entry.keyBlob, key.blob) || (ca !== undefined && bytesEqual(m.entry.keyBlob, ca.blob))),
  );
  if (revoked.length > 0) return { status: 'revoked', matches: revoked };
  if (ca !== undefined) {
    const byCa = matched.filter((m) => m.entry.marker === 'cert-authority' && bytesEqual(m.entry.keyBlob, ca.blob));
    if (byCa.length > 0) return { status: 'trusted-by-ca', matches: byCa.slice(0, 1) };
  }
  const plain = matched.filter((m) => m.entry.marker === null);
  const exact = plain.find((m) => bytesEqual(m.entry.keyBlob, key.blob));
  if (exact) return { status: 'trusted', matches: [exact] };
  if (plain.length > 0) {
    const expected = [...new Set(plain.map((m) => fingerprintSha256(m.entry.keyBlob)))];
    return { status: 'changed', matches: plain, expected };
  }
  return { status: 'unknown', matches: [] };
}

/**
 * Check a server's host key against parsed known_hosts entries (from any number of files, in
 * order: user files first, then global ones, as OpenSSH loads them).
 */
export function checkHostKey(entries: readonly KnownHostsEntry[], query: HostKeyQuery): HostKeyCheck {
  const aliases = query.hostAliases ?? [];
  const names = lookupNames(query.host, query.port, aliases);
  let result = evaluate(collect(entries, names), query.key, query.certificateAuthority);
  if (result.status === 'unknown' && query.port !== 22 && query.port !== 0) {
    // OpenSSH retries without the port and accepts a key that is trusted there; a revocation
    // found that way is honoured too (stricter than OpenSSH, which would then ask).
    const bare = evaluate(collect(entries, lookupNames(query.host, 22, aliases)), query.key, query.certificateAuthority);
    if (bare.status === 'trusted' || bare.status === 'trusted-by-ca' || bare.status === 'revoked') result = bare;
  }
  return {
    status: result.status,
    host: query.host,
    port: query.port,
    lookupNames: names,
    keyType: query.key.type,
    fingerprint: fingerprintSha256(query.key.blob),
    key: query.key,
    ...(query.certificateAuthority ? { certificateAuthority: query.certificateAuthority } : {}),
    matches: result.matches,
    ...(result.expected ? { expectedFingerprints: result.expected } : {}),
  };
}

/**
 * Key types of the plain keys known for a host, in file order without repeats. A client should
 * put the matching host key algorithms first in its KEXINIT, as OpenSSH does, so that a server
 * with several host keys presents the one already known instead of triggering a 'changed'.
 */
export function knownHostKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number, hostAliases: readonly string[] = []): string[] {
  let matched = collect(entries, lookupNames(host, port, hostAliases)).filter((m) => m.entry.marker === null);
  if (matched.length === 0 && port !== 22 && port !== 0) {
    matched = collect(entries, lookupNames(host, 22, hostAliases)).filter((m) => m.entry.marker === null);
  }
  return [...new Set(matched.map((m) => m.entry.keyType))];
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Characters OpenSSH refuses to record in a host name (they are pattern or file syntax). */
const UNRECORDABLE = /[\s,@?*#[\]|'"\\!]/;

export type FormatKnownHostsOptions =
  | { readonly hash?: false; readonly comment?: string; readonly marker?: KnownHostsMarker }
  | { readonly hash: true; readonly random: RandomSource; readonly comment?: string; readonly marker?: KnownHostsMarker };

/**
 * A known_hosts line for `host` on `port` (no trailing newline). With `hash`, the name is stored
 * as `|1|salt|hash` with a fresh 20-byte salt from `random`, exactly as `ssh-keygen -H` and
 * `HashKnownHosts yes` write it. Throws RangeError for names that cannot be recorded.
 */
export function formatKnownHostsLine(host: string, port: number, key: PublicKey, options: FormatKnownHostsOptions = {}): string {
  if (host === '' || UNRECORDABLE.test(host)) {
    throw new RangeError(`cannot record host name "${host}" in known_hosts: it is empty or contains whitespace or one of , @ ? * # [ ] | ' " \\ !`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);
  if (options.comment !== undefined && /[\r\n]/.test(options.comment)) throw new RangeError('a known_hosts comment cannot contain a line break');
  const name = knownHostsLookupName(host, port);
  let field = name;
  if (options.hash) {
    const salt = options.random(SHA1_LENGTH).slice(0, SHA1_LENGTH);
    if (salt.length !== SHA1_LENGTH) throw new RangeError('the random source returned too few bytes');
    field = `${HASH_MAGIC}${encodeBase64(salt)}|${encodeBase64(hashKnownHostName(name, salt))}`;
  }
  const marker = options.marker ? `@${options.marker} ` : '';
  const comment = options.comment ? ` ${options.comment}` : '';
  return `${marker}${field} ${key.type} ${encodeBase64(key.blob)}${comment}`;
}

// ---------------------------------------------------------------------------------------------
// StrictHostKeyChecking (ssh_config(5))

export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no' | 'ask';

/** Parse a StrictHostKeyChecking value as ssh_config(5) spells it (`off` = `no`; `true`/`false` as OpenSSH also reads them). */
export function parseStrictHostKeyChecking(value: string): StrictHostKeyChecking | null {
  switch (value.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'off':
    case 'false':
      return 'no';
    case 'ask':
      return 'ask';
    case 'accept-new':
      return 'accept-new';
    default:
      return null;
  }
}

export type HostKeyErrorCode = 'HOST_KEY_UNKNOWN' | 'HOST_KEY_CHANGED' | 'HOST_KEY_REVOKED';

/** What OpenSSH switches off when it proceeds despite a changed key (StrictHostKeyChecking=no). */
export interface HostKeyRestrictions {
  readonly passwordAuthentication: false;
  readonly keyboardInteractiveAuthentication: false;
  readonly agentForwarding: false;
  readonly x11Forwarding: false;
  readonly portForwarding: false;
  readonly tunnelForwarding: false;
  /** Also: do not learn new host keys from the server (UpdateHostKeys). */
  readonly updateHostKeys: false;
}

export interface HostKeyDecision {
  /** Proceed with the connection now. */
  readonly accept: boolean;
  /** Append the key to the user's known_hosts file (when accepted, or when the user confirms). */
  readonly addToFile: boolean;
  /**
   * 'ask' mode and an unknown key: ask the user with `prompt`. On yes, accept and add to the file;
   * on no, or when no one can be asked (batch mode), refuse with `error`.
   */
  readonly confirm?: { readonly prompt: string };
  /** Accepted in spite of a changed key ('no' mode): these features must stay off for the connection. */
  readonly restrictions?: HostKeyRestrictions;
  /** Something the user must be told even though the connection goes ahead. */
  readonly warning?: string;
  readonly error?: { readonly code: HostKeyErrorCode; readonly message: string };
}

export interface DecideHostKeyOptions {
  /** The user's known_hosts file, named in "add it to …" advice (default `~/.ssh/known_hosts`). */
  readonly userKnownHostsFile?: string;
}

const RESTRICTIONS: HostKeyRestrictions = {
  passwordAuthentication: false,
  keyboardInteractiveAuthentication: false,
  agentForwarding: false,
  x11Forwarding: false,
  portForwarding: false,
  tunnelForwarding: false,
  updateHostKeys: false,
};

/** Quote an argument for a POSIX shell when it needs it. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function displayName(check: HostKeyCheck): string {
  return check.lookupNames[0] ?? knownHostsLookupName(check.host, check.port);
}

function removalAdvice(check: HostKeyCheck): string {
  const lines: string[] = [];
  const byFile = new Map<string, KnownHostMatch[]>();
  for (const m of check.matches) byFile.set(m.entry.source, [...(byFile.get(m.entry.source) ?? []), m]);
  for (const [file, ms] of byFile) {
    const wildcard = ms.filter((m) => m.entry.names.kind === 'patterns' && /[*?!]/.test(m.entry.names.patterns));
    const specific = ms.filter((m) => !wildcard.includes(m));
    const names = [...new Set(specific.map((m) => m.name))];
    for (const n of names) lines.push(`  ssh-keygen -R ${shellQuote(n)} -f ${shellQuote(file)}`);
    for (const m of wildcard) {
      lines.push(`  edit line ${m.entry.line} of ${file} (it applies to "${(m.entry.names as { patterns: string }).patterns}", not only this host)`);
    }
  }
  return lines.join('\n');
}

/**
 * The StrictHostKeyChecking decision for a checked host key, as ssh_config(5) describes it:
 *
 * | status        | yes     | accept-new    | no                         | ask                    |
 * |---------------|---------|---------------|----------------------------|------------------------|
 * | trusted(-by-ca)| accept | accept        | accept                     | accept                 |
 * | unknown       | refuse  | accept + add  | accept + add               | ask; yes → accept + add|
 * | changed       | refuse  | refuse        | accept with restrictions   | refuse                 |
 * | revoked       | refuse  | refuse        | refuse                     | refuse                 |
 *
 * A changed key under `no` proceeds "subject to some restrictions" (ssh_config(5)): OpenSSH then
 * disables password and keyboard-interactive authentication, agent, X11, port and tunnel
 * forwarding, and does not record the key; `restrictions` lists exactly that. A revoked key is
 * refused in every mode because sshd(8) says such a key "must not ever be accepted" (OpenSSH's
 * client lets `no` continue with the same restrictions; we follow the documented rule).
 */
export function decideHostKey(check: HostKeyCheck, mode: StrictHostKeyChecking, options: DecideHostKeyOptions = {}): HostKeyDecision {
  const file = options.userKnownHostsFile ?? '~/.ssh/known_hosts';
  const name = displayName(check);
  const received = `${check.fingerprint} (${check.keyType})`;
  switch (check.status) {
    case 'trusted':
    case 'trusted-by-ca':
      return { accept: true, addToFile: false };

    case 'revoked': {
      const where = check.matches.map((m) => m.location).join(', ');
      const what = check.certificateAuthority && check.matches.some((m) => bytesEqual(m.entry.keyBlob, check.certificateAuthority!.blob))
        ? `the certificate authority that signed its host certificate (${fingerprintSha256(check.certificateAuthority.blob)})`
        : `its ${check.keyType} host key (${check.fingerprint})`;
      return {
        accept: false,
        addToFile: false,
        error: {
          code: 'HOST_KEY_REVOKED',
          message:
            `Host key verification failed: ${name} presented ${what}, which is marked @revoked in ${where}. ` +
            'A revoked key is never accepted, whatever StrictHostKeyChecking says: it may have been stolen and be used to impersonate the host. ' +
            `Ask the host's administrator for its new host key; if the revocation itself is a mistake, delete the @revoked line${check.matches.length > 1 ? 's' : ''} (${where}).`,
        },
      };
    }

    case 'changed': {
      const expected = check.matches
        .map((m) => `  ${fingerprintSha256(m.entry.keyBlob)} (${m.entry.keyType}) from ${m.location}`)
        .filter((l, i, all) => all.indexOf(l) === i)
        .join('\n');
      const body =
        `The host key of ${name} has changed: it presented ${received}, which does not match the known key${check.matches.length > 1 ? 's' : ''}:\n${expected}\n` +
        'Someone could be intercepting this connection (man-in-the-middle attack), or the host key was replaced. ' +
        'Check the new fingerprint with the host\'s administrator. If it is right, remove the old entry and connect again:\n' +
        removalAdvice(check);
      if (mode === 'no') {
        return {
          accept: true,
          addToFile: false,
          restrictions: RESTRICTIONS,
          warning:
            `WARNING: ${body}\nStrictHostKeyChecking=no: connecting anyway, with password and keyboard-interactive authentication, ` +
            'agent, X11, port and tunnel forwarding disabled to avoid man-in-the-middle attacks.',
        };
      }
      return {
        accept: false,
        addToFile: false,
        error: { code: 'HOST_KEY_CHANGED', message: `Host key verification failed. ${body}\n(StrictHostKeyChecking=${mode} refuses changed host keys.)` },
      };
    }

    case 'unknown': {
      if (mode === 'accept-new' || mode === 'no') {
        return { accept: true, addToFile: true, warning: `Permanently added '${name}' (${check.keyType}, ${check.fingerprint}) to the list of known hosts (${file}).` };
      }
      const line = `${name} ${check.keyType} ${encodeBase64(check.key.blob)}`;
      const error = {
        code: 'HOST_KEY_UNKNOWN' as const,
        message:
          `Host key verification failed: no host key is known for ${name}, which presented ${received}` +
          (mode === 'yes' ? ', and StrictHostKeyChecking=yes never adds keys by itself. ' : ', and nobody confirmed it. ') +
          `If you have checked that fingerprint with the host's administrator, add this line to ${file}:\n  ${line}\n` +
          'or connect once with StrictHostKeyChecking=accept-new.',
      };
      if (mode === 'yes') return { accept: false, addToFile: false, error };
      return {
        accept: false,
        addToFile: false,
        confirm: {
          prompt:
            `The authenticity of host '${name}' can't be established.\n${check.keyType} key fingerprint is ${check.fingerprint}.\n` +
            'Are you sure you want to continue connecting (yes/no)? ',
        },
        error,
      };
    }
  }
}
