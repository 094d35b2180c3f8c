/**
 * ssh_config(5) resolution as a pure function (DESIGN.md section 3: "ssh_config resolution" is part
 * of core/api): configuration text in, the settings for one destination out. Files are reached only
 * through the `files` reader the caller passes (for `Include`), commands only through `exec` (for
 * `Match exec`), the environment only through `env` (for `${VAR}`); nothing here touches a file
 * system, a clock or a process.
 *
 * The behaviour follows OpenSSH 9.2's client (ssh_config(5) and what `ssh -G` prints), and the tests
 * in ssh-config.test.ts compare every supported option against `ssh -G` run live:
 *
 * - Lines are `Keyword value` or `Keyword=value`; keywords are case-insensitive; arguments may be
 *   quoted with `"` or `'` and use `\` escapes; `#` starts a comment where a new argument would start.
 * - The first obtained value wins, except for IdentityFile, CertificateFile, LocalForward,
 *   RemoteForward and DynamicForward, which accumulate (duplicates dropped, as ssh does).
 *   Command-line `-o` values (`options`) and `-l`/`-p` (`user`, `port`) are applied first, so they win.
 * - `Host` patterns (`*`, `?`, `!negation`, several per line) are matched case-sensitively against
 *   the host as typed. `Match` supports `all`, `host`, `originalhost`, `user`, `localuser`,
 *   `canonical`, `final`, `exec` (through `input.exec`), each negatable with `!`. As in ssh, a config
 *   that says `Match final` (or sets `CanonicalizeHostname`) is read a second time with `final` and
 *   `canonical` true and `Host` matched against the final host name. No DNS canonicalization is
 *   done: the host name is kept as configured (as ssh does when nothing needs canonicalizing).
 * - `Include` (nested up to depth 16 like ssh) is conditional when inside a Host/Match block; relative
 *   paths are taken from `~/.ssh` (from `/etc/ssh` for `system: true`), as ssh does — not from the
 *   including file's directory; `~` is expanded; `*`, `?` and `[...]` are expanded with `files.list`
 *   in any path component, matches sorted by code point (ssh's glob(3) in the C collation). A path
 *   that `files.read` does not return is skipped, as ssh skips a missing file.
 * - Tokens (`%%`, `%C`, `%d`, `%h`, `%i`, `%k`, `%L`, `%l`, `%n`, `%p`, `%r`, `%u`) and `~` are expanded
 *   in IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent and a ForwardAgent socket;
 *   `${VAR}` from `env` there too; only tokens in LocalForward/RemoteForward socket paths (env is
 *   expanded in the whole forwarding spec, as ssh 9.2 does); `%h`/`%%` in HostName; `%h %n %p %r %%`
 *   in the ProxyJump hops (`proxyJumpHops`; `proxyJump` is the text `ssh -G` prints). `%C` is
 *   SHA-1 over `%l%h%p%r`, computed with @noble/hashes; `%l`, `%L`, `%C` need `localHostname` and
 *   `%i` needs `uid` — a value that uses them without it is an SshConfigError.
 * - Unknown keywords are an {@link SshConfigError} with file:line ("Bad configuration option", as
 *   ssh), unless `IgnoreUnknown` matches them or `unknownKeywords: 'collect'` is given; either way
 *   they are listed in `unknown`. Keywords ssh knows but this resolver does not model are kept as
 *   raw strings in `other`. ssh's deprecated and unsupported keywords produce `warnings`.
 *
 * Not supported, on purpose: service names as ports (`Port ssh`; ssh asks /etc/services — use
 * numbers), DNS canonicalization (see above), `~user` without `homeDirOf`, and the algorithm lists
 * are not checked against a list of names (the engine's `applyAlgorithmOption` does that when it
 * applies them to its own defaults; the `+ - ^` text is returned as written).
 */
import { sha1 } from '@noble/hashes/legacy.js';

/** Where a configuration line came from: a file path (or `command-line` for `-o`) and a 1-based line (0 for `-o`). */
export interface SshConfigSource {
  readonly file: string;
  readonly line: number;
}

export type SshConfigErrorReason =
  /** A keyword ssh does not know ("Bad configuration option"). */
  | 'bad-option'
  /** A known keyword with a missing, malformed or extra argument, or a bad Host/Match line. */
  | 'bad-value'
  /** Include nested deeper than 16 files. */
  | 'include-depth'
  /** Include used without `input.files`. */
  | 'include-unavailable'
  /** `Match exec` needed without `input.exec`. */
  | 'match-exec'
  /** A `%` token, `${VAR}` or `~user` that cannot be expanded. */
  | 'expansion'
  /** The input itself is wrong (a port out of range). */
  | 'usage';

export interface SshConfigProblem extends SshConfigSource {
  readonly reason: SshConfigErrorReason;
  readonly message: string;
}

/**
 * A configuration ssh would refuse. `file` and `line` locate the first problem; `problems` lists every
 * bad line of that file (ssh reads a file to its end and then stops with "terminating, N bad
 * configuration options"), or the single fatal problem (include depth, an expansion).
 */
export class SshConfigError extends Error {
  readonly code = 'SSH_CONFIG_INVALID';
  readonly file: string;
  readonly line: number;
  readonly reason: SshConfigErrorReason;
  readonly problems: readonly SshConfigProblem[];
  constructor(problems: readonly SshConfigProblem[]) {
    const first = problems[0] ?? { file: 'ssh_config', line: 0, reason: 'usage' as const, message: 'invalid configuration' };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more bad line${problems.length > 2 ? 's' : ''})` : '';
    super(`${first.file} line ${first.line}: ${first.message}${more}`);
    this.name = 'SshConfigError';
    this.file = first.file;
    this.line = first.line;
    this.reason = first.reason;
    this.problems = problems;
  }
}

/** The caller's window on files, for `Include`. Paths are absolute. */
export interface SshConfigFiles {
  /** The file's text, or undefined when it does not exist or is not a readable file. */
  read(path: string): string | undefined;
  /** The names (not paths) in a directory, or undefined when it is not a readable directory. */
  list(dir: string): readonly string[] | undefined;
}

export interface ResolveSshConfigInput {
  /** The destination as the user typed it (ssh's "original host"; `%n`). */
  readonly host: string;
  /** From `user@host` or `-l`: takes precedence over `User` in the configuration. */
  readonly user?: string | undefined;
  /** From `-p`: takes precedence over `Port` in the configuration. */
  readonly port?: number | undefined;
  /** The local account name (`%u`, `Match localuser`, the default `User`). */
  readonly localUser: string;
  /** The local account's home directory (`~`, `%d`). */
  readonly homeDir: string;
  /** The main configuration file's content. */
  readonly text: string;
  /** Its path, for messages (default `~/.ssh/config` spelled out under homeDir). */
  readonly path?: string | undefined;
  /** True when `text` is the system-wide file: relative Includes then resolve in /etc/ssh and `~` is refused, as ssh does. */
  readonly system?: boolean | undefined;
  /** File access for `Include`. Without it an Include line is an SshConfigError. */
  readonly files?: SshConfigFiles | undefined;
  /** Command-line `-o` values by keyword; applied before the files, so they win. An array gives the keyword several times. */
  readonly options?: Readonly<Record<string, string | readonly string[]>> | undefined;
  /** The local host name with its domain (`%l`; `%L` is its first label; part of `%C`). */
  readonly localHostname?: string | undefined;
  /** The local user id (`%i`). */
  readonly uid?: number | undefined;
  /** The environment, for `${VAR}`. Without it a `${VAR}` is an SshConfigError. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Runs a `Match exec` command (already token-expanded); true when it exited 0. Without it `Match exec` is an SshConfigError. */
  readonly exec?: ((command: string) => boolean) | undefined;
  /** Home directories of other users, for `~user/…`. */
  readonly homeDirOf?: ((user: string) => string | undefined) | undefined;
  /** 'error' (the default, as ssh): an unknown keyword is an SshConfigError. 'collect': list it in `unknown` and go on. */
  readonly unknownKeywords?: 'error' | 'collect' | undefined;
}

/** A LocalForward / RemoteForward (RFC 4254 section 7): a TCP port or a Unix socket path on each side. */
export interface SshConfigForward {
  /** Absent: ssh's default bind address (GatewayPorts decides). `*` or an address or name otherwise. */
  readonly listenHost?: string;
  readonly listenPort?: number;
  readonly listenPath?: string;
  readonly connectHost?: string;
  readonly connectPort?: number;
  readonly connectPath?: string;
  /** RemoteForward with one argument: a SOCKS proxy on the server side, nothing to connect to. */
  readonly dynamic?: true;
}

/** A DynamicForward: a local SOCKS listener. */
export interface SshConfigDynamicForward {
  readonly listenHost?: string;
  readonly listenPort?: number;
  readonly listenPath?: string;
}

export interface SshConfigJumpHop {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export interface SshConfigUnknown extends SshConfigSource {
  /** Lower case, as ssh reports it. */
  readonly keyword: string;
  /** True when `IgnoreUnknown` covered it (ssh then says nothing); false when collected by `unknownKeywords: 'collect'`. */
  readonly ignored: boolean;
}

export interface SshConfigWarning extends SshConfigSource {
  readonly message: string;
}

/** The settings for one destination, with ssh's defaults filled in where ssh -G shows one. */
export interface ResolvedSshConfig {
  /** The host as typed. */
  readonly host: string;
  /** Where to connect: HostName with `%h` expanded, lower-cased unless it is an address (as ssh). */
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  /** Paths to try, expanded; ssh's default list (`~/.ssh/id_rsa` … `id_dsa`) when none configured; `none` entries dropped. */
  readonly identityFile: readonly string[];
  /** True when identityFile is ssh's default list (missing files are then not worth a warning). */
  readonly identityFileDefaulted: boolean;
  readonly certificateFile: readonly string[];
  readonly identitiesOnly: boolean;
  /** Expanded; may be `none` or `SSH_AUTH_SOCK` (use the environment variable), as in ssh. */
  readonly identityAgent: string | undefined;
  readonly forwardAgent: boolean;
  /** ForwardAgent given a socket path (expanded) instead of yes/no. */
  readonly forwardAgentSocket: string | undefined;
  /** As `ssh -G` prints it: earlier hops as written, then the last as `[user@]host[:port]`. */
  readonly proxyJump: string | undefined;
  /** Every ProxyJump hop, first hop first, with `%h %n %p %r %%` expanded. Empty without ProxyJump. */
  readonly proxyJumpHops: readonly SshConfigJumpHop[];
  /** Raw, tokens unexpanded (they refer to the connection the command serves); undefined for none or when ProxyJump is set. */
  readonly proxyCommand: string | undefined;
  /** Lower-cased, as ssh uses it. */
  readonly hostKeyAlias: string | undefined;
  /** Expanded; ssh's default `~/.ssh/known_hosts ~/.ssh/known_hosts2` when unset; empty for `none`. */
  readonly userKnownHostsFile: readonly string[];
  /** `~` expanded; `/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2` when unset; empty for `none`. */
  readonly globalKnownHostsFile: readonly string[];
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** Algorithm lists as written (a full list, or `+…`, `-…`, `^…` for the engine to apply to its defaults). */
  readonly ciphers: string | undefined;
  readonly macs: string | undefined;
  readonly kexAlgorithms: string | undefined;
  readonly hostKeyAlgorithms: string | undefined;
  readonly pubkeyAcceptedAlgorithms: string | undefined;
  /**
   * Seconds; 0 = off (upstream OpenSSH's default). Debian's ssh defaults it to 300 when BatchMode is
   * on; we follow upstream, so a caller wanting Debian's behaviour checks `batchMode` itself.
   */
  readonly serverAliveInterval: number;
  readonly serverAliveCountMax: number;
  /** Seconds; undefined = the system's TCP timeout. */
  readonly connectTimeout: number | undefined;
  readonly localForward: readonly SshConfigForward[];
  readonly remoteForward: readonly SshConfigForward[];
  readonly dynamicForward: readonly SshConfigDynamicForward[];
  /** Undefined = ssh's default order. */
  readonly preferredAuthentications: readonly string[] | undefined;
  readonly batchMode: boolean;
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  readonly compression: boolean;
  readonly connectionAttempts: number;
  readonly exitOnForwardFailure: boolean;
  /** When true the forward lists are empty, as ssh clears them. */
  readonly clearAllForwardings: boolean;
  /**
   * Keywords ssh knows that are not modelled above (lower-cased canonical names, aliases resolved):
   * each active occurrence's arguments, unquoted and joined by one space, in the order read. For a
   * single-valued keyword the first entry is the one ssh uses.
   */
  readonly other: Readonly<Record<string, readonly string[]>>;
  readonly unknown: readonly SshConfigUnknown[];
  readonly warnings: readonly SshConfigWarning[];
  /** Every file read, main file first, in reading order (a second pass, for `Match final`, reads them again). */
  readonly files: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Keywords

/** ssh's alternative spellings → the keyword they stand for. */
const ALIASES: Readonly<Record<string, string>> = {
  identityfile2: 'identityfile',
  keepalive: 'tcpkeepalive',
  dsaauthentication: 'pubkeyauthentication',
  challengeresponseauthentication: 'kbdinteractiveauthentication',
  skeyauthentication: 'kbdinteractiveauthentication',
  tisauthentication: 'kbdinteractiveauthentication',
  hostbasedkeytypes: 'hostbasedacceptedalgorithms',
  pubkeyacceptedkeytypes: 'pubkeyacceptedalgorithms',
  smartcarddevice: 'pkcs11provider',
  // Debian's compatibility spellings (its keepalive patch); upstream ssh calls them bad options.
  protocolkeepalives: 'serveraliveinterval',
  setuptimeout: 'serveraliveinterval',
};

/** Accepted and ignored by ssh (it logs them at debug level). */
const DEPRECATED = new Set(['cipher', 'fallbacktorsh', 'globalknownhostsfile2', 'rhostsauthentication', 'userknownhostsfile2', 'useroaming', 'usersh', 'useprivilegedport']);
/** Accepted with an "Unsupported option" message; the line has no effect. */
const UNSUPPORTED = new Set(['afstokenpassing', 'kerberosauthentication', 'kerberostgtpassing', 'rsaauthentication', 'rhostsrsaauthentication', 'compressionlevel']);

const FLAG = ['yes', 'no', 'true', 'false'];
type OtherKind = 'flag' | 'time' | 'int' | 'one' | 'one-or-two' | 'many' | 'rest' | readonly string[];

/** Keywords ssh 9.2 (Debian build: GSSAPI, PKCS#11 and the GSSAPI key exchange patch) knows and we keep raw. */
const OTHER: Readonly<Record<string, OtherKind>> = {
  forwardx11: 'flag', forwardx11trusted: 'flag', forwardx11timeout: 'time', gatewayports: 'flag',
  xauthlocation: 'one', kbdinteractivedevices: 'one', hostbasedauthentication: 'flag',
  gssapiauthentication: 'flag', gssapidelegatecredentials: 'flag', gssapikeyexchange: 'flag',
  gssapirenewalforcesrekey: 'flag', gssapitrustdns: 'flag', gssapiclientidentity: 'one',
  gssapiserveridentity: 'one', gssapikexalgorithms: 'one', pkcs11provider: 'one',
  pubkeyauthentication: [...FLAG, 'unbound', 'host-bound'], checkhostip: 'flag',
  verifyhostkeydns: [...FLAG, 'ask'], tcpkeepalive: 'flag', numberofpasswordprompts: 'int',
  rekeylimit: 'one-or-two', escapechar: 'one', syslogfacility: 'one', loglevel: 'one', logverbose: 'many',
  casignaturealgorithms: 'one', hostbasedacceptedalgorithms: 'one', bindaddress: 'one', bindinterface: 'one',
  enablesshkeysign: 'flag', nohostauthenticationforlocalhost: 'flag', addressfamily: ['inet', 'inet6', 'any'],
  sendenv: 'many', setenv: 'many', controlpath: 'one',
  controlmaster: [...FLAG, 'auto', 'ask', 'autoask'], controlpersist: 'one', hashknownhosts: 'flag',
  tunnel: [...FLAG, 'ethernet', 'point-to-point'], tunneldevice: 'one', localcommand: 'rest',
  permitlocalcommand: 'flag', remotecommand: 'rest', visualhostkey: 'flag', ipqos: 'one-or-two',
  requesttty: [...FLAG, 'force', 'auto'], sessiontype: ['none', 'subsystem', 'default'], stdinnull: 'flag',
  forkafterauthentication: 'flag', proxyusefdpass: 'flag', canonicaldomains: 'many',
  canonicalizefallbacklocal: 'flag', canonicalizehostname: [...FLAG, 'always'], canonicalizemaxdots: 'int',
  canonicalizepermittedcnames: 'many', streamlocalbindmask: 'one', streamlocalbindunlink: 'flag',
  revokedhostkeys: 'one', fingerprinthash: 'one', updatehostkeys: [...FLAG, 'ask'], addkeystoagent: 'one-or-two',
  securitykeyprovider: 'one', knownhostscommand: 'rest', requiredrsasize: 'int', enableescapecommandline: 'flag',
  permitremoteopen: 'many', ignoreunknown: 'one',
};

/** Keywords modelled in ResolvedSshConfig (plus Host, Match, Include). */
const TYPED = new Set([
  'host', 'match', 'include', 'hostname', 'user', 'port', 'identityfile', 'certificatefile', 'identitiesonly',
  'identityagent', 'forwardagent', 'proxyjump', 'proxycommand', 'hostkeyalias', 'userknownhostsfile',
  'globalknownhostsfile', 'stricthostkeychecking', 'ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms',
  'pubkeyacceptedalgorithms', 'serveraliveinterval', 'serveralivecountmax', 'connecttimeout', 'localforward',
  'remoteforward', 'dynamicforward', 'preferredauthentications', 'batchmode', 'passwordauthentication',
  'kbdinteractiveauthentication', 'compression', 'connectionattempts', 'exitonforwardfailure', 'clearallforwardings',
]);

/** ssh's default IdentityFile list (OpenSSH 9.2 built with ECC), in its order. */
const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'];
const MAX_INCLUDE_DEPTH = 16;
const MAX_FILE_ENTRIES = 100; // ssh's SSH_MAX_IDENTITY_FILES / SSH_MAX_CERTIFICATE_FILES
const MAX_HOSTS_FILES = 32;

// ---------------------------------------------------------------------------------------------
// Tokenising, the two ways ssh does it

const WS = ' \t\r\n';
function skipWs(s: string, from = 0): string {
  let i = from;
  while (i < s.length && WS.includes(s[i]!)) i++;
  return s.slice(i);
}

/**
 * ssh's strdelim: the next token of `s`, split at whitespace, a quote or one `=`; a leading quoted
 * token runs to the next quote. `tok` null: an unmatched quote. `rest` null: nothing follows.
 */
function strdelim(s: string | null): { tok: string | null; rest: string | null } {
  if (s === null) return { tok: null, rest: null };
  let i = 0;
  while (i < s.length && !(WS + '"=').includes(s[i]!)) i++;
  if (i === s.length) return { tok: s, rest: null };
  if (s[i] === '"') {
    const joined = s.slice(0, i) + s.slice(i + 1);
    const close = joined.indexOf('"', i);
    if (close < 0) return { tok: null, rest: null };
    return { tok: joined.slice(0, close), rest: skipWs(joined, close + 1) };
  }
  const wasEquals = s[i] === '=';
  let rest = skipWs(s, i + 1);
  if (!wasEquals && rest[0] === '=') rest = skipWs(rest, 1);
  return { tok: s.slice(0, i), rest };
}

/** ssh's argv_split with comments: `"…"`/`'…'` quoting, `\\ \" \' \<space>` escapes, `#` at a token start ends the line. Null: unbalanced quotes. */
function argvSplit(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
          i++;
          arg += next;
        } else arg += ch;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else arg += ch;
    }
    if (quote !== '') return null;
    out.push(arg);
  }
  return out;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Patterns

/** ssh's match_pattern: `*` and `?` wildcards, everything else literal, case-sensitive. */
export function matchSshPattern(s: string, pattern: string): boolean {
  // Iterative wildcard match with backtracking to the last `*`.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || (pattern[pi] !== '*' && pattern[pi] === s[si]))) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** ssh's match_pattern_list: comma-separated patterns, `!` negates; 1 a positive match, -1 a negated one, 0 none. */
export function matchSshPatternList(s: string, list: string, lowerPatterns: boolean): 1 | 0 | -1 {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let sub = negated ? raw.slice(1) : raw;
    if (lowerPatterns) sub = asciiLower(sub);
    if (raw === '' && !negated) continue;
    if (matchSshPattern(s, sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Values

class LineProblem extends Error {
  constructor(
    readonly reason: SshConfigErrorReason,
    message: string,
  ) {
    super(message);
  }
}

function bad(message: string): never {
  throw new LineProblem('bad-value', message);
}

/** ssh's convtime: `90`, `90s`, `1h30m`, `2d`, `1w`; -1 when invalid. */
function convtime(s: string): number {
  if (s === '') return -1;
  let total = 0;
  let i = 0;
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  while (i < s.length) {
    const m = /^\+?(\d+)/.exec(s.slice(i));
    if (!m) return -1;
    i += m[0].length;
    let mult = 1;
    if (i < s.length) {
      const u = units[s[i]!.toLowerCase()];
      if (u === undefined) return -1;
      mult = u;
      i++;
    }
    const secs = Number(m[1]) * mult;
    if (!Number.isSafeInteger(secs) || secs > 0x7fffffff || total + secs > 0x7fffffff) return -1;
    total += secs;
  }
  return total;
}

function parseInt32(arg: string | undefined): number {
  if (arg === undefined || !/^[-+]?\d+$/.test(arg)) bad(`integer value ${arg === undefined ? 'missing' : 'invalid'}.`);
  const v = Number(arg);
  if (v > 0x7fffffff || v < -0x80000000) bad(`integer value too ${v > 0 ? 'large' : 'small'}.`);
  return v;
}

/** ssh's a2port for numbers (0-65535); -1 otherwise (service names are not looked up here). */
function a2port(s: string): number {
  if (!/^\d+$/.test(s)) return -1;
  const v = Number(s);
  return v <= 65535 ? v : -1;
}

function flagValue(arg: string | undefined, choices: readonly string[] = FLAG): string {
  if (arg === undefined || arg === '') bad('missing argument.');
  const v = asciiLower(arg);
  if (!choices.includes(v)) bad(`unsupported option "${arg}".`);
  return v;
}

function yes(v: string): boolean {
  return v === 'yes' || v === 'true';
}

function isAddress(h: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || (h.includes(':') && /^[0-9a-fA-F:.]+(%.+)?$/.test(h));
}

/** ssh's valid_domain without lower-casing: letters, digits, `-`, `_`, single dots. */
function validDomain(name: string): boolean {
  return /^[A-Za-z0-9]/.test(name) && !name.includes('..') && /^[A-Za-z0-9._-]+$/.test(name);
}

/** ssh's hpdelim2: the host part (brackets kept) and what follows its `:` or `/`. */
function hpdelim(s: string, allowSlash: boolean): { host: string; rest: string | null; delim: string } | null {
  let end: number;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    end = close + 1;
  } else {
    end = 0;
    while (end < s.length && s[end] !== ':' && !(s[end] === '/')) end++;
  }
  if (end === s.length) return { host: s, rest: null, delim: '' };
  const d = s[end]!;
  if (d !== ':' && d !== '/') return null;
  if (d === '/' && !allowSlash) return null;
  return { host: s.slice(0, end), rest: s.slice(end + 1), delim: d };
}

function cleanHostname(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function parseUserHostPort(s: string): SshConfigJumpHop | null {
  let rest = s;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0) return null;
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const hp = hpdelim(rest, false);
  if (hp === null || hp.host === '') return null;
  const host = cleanHostname(hp.host);
  let port: number | undefined;
  if (hp.rest !== null && hp.rest !== '') {
    const p = a2port(hp.rest);
    if (p <= 0) return null;
    port = p;
  }
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
}

function urldecode(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out += ' ';
    else if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else out += c;
  }
  return out;
}

/** An `ssh://[user@]host[:port]` URI (RFC draft-ietf-secsh-scp-sftp-ssh-uri); 'not-uri' when it is not one, null when it is a bad one. */
function parseSshUri(s: string): SshConfigJumpHop | null | 'not-uri' {
  if (!s.startsWith('ssh://')) return 'not-uri';
  let rest = s.slice(6);
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    let u = rest.slice(0, at);
    const semi = u.indexOf(';');
    if (semi >= 0) u = u.slice(0, semi);
    if (u === '') return null;
    const dec = urldecode(u);
    if (dec === null) return null;
    user = dec;
    rest = rest.slice(at + 1);
  }
  const hp = hpdelim(rest, true);
  if (hp === null || hp.host === '') return null;
  const host = cleanHostname(hp.host);
  if (!validDomain(host)) return null;
  let port: number | undefined;
  let tail = hp.rest;
  if (tail !== null && tail !== '' && hp.delim === ':') {
    const slash = tail.indexOf('/');
    const p = a2port(slash >= 0 ? tail.slice(0, slash) : tail);
    if (p <= 0) return null;
    port = p;
    tail = slash >= 0 ? tail.slice(slash + 1) : null;
  }
  if (tail !== null && tail !== '') return null; // a path is not allowed here
  return { ...(user !== undefined ? { user } : {}), host: host.replace(/\.$/, ''), ...(port !== undefined ? { port } : {}) };
}

/** One ProxyJump hop, as ssh parses it (URI or `[user@]host[:port]`). */
function parseJumpHop(s: string): SshConfigJumpHop | null {
  const uri = parseSshUri(s);
  return uri === 'not-uri' ? parseUserHostPort(s) : uri;
}

interface Forward {
  listenHost?: string;
  listenPort: number;
  listenPath?: string;
  connectHost?: string;
  connectPort: number;
  connectPath?: string;
}
const STREAMLOCAL = -2;
const SOCKS = 'socks';
/** ssh marks a dynamic (SOCKS) forward by connecting to "socks" port 0, which no LocalForward can name. */
function isSocks(f: Forward): boolean {
  return f.connectHost === SOCKS && f.connectPort === 0;
}

/** ssh's parse_forward over an env-expanded spec. */
function parseForward(spec: string, dynamic: boolean, remote: boolean): Forward | null {
  type Field = { arg: string; path: boolean };
  const fields: Field[] = [];
  let p: string | null = spec.replace(/^\s+/, '');
  while (fields.length < 4 && p !== null && p !== '') {
    if (p.startsWith('[')) {
      let e = 1;
      let path = false;
      while (e < p.length && p[e] !== ']') {
        if (p[e] === '/') path = true;
        e++;
      }
      if (p[e] !== ']' || (e + 1 < p.length && p[e + 1] !== ':')) return null;
      fields.push({ arg: p.slice(1, e), path });
      p = e + 1 < p.length ? p.slice(e + 2) : '';
      continue;
    }
    let arg = '';
    let path = false;
    let i = 0;
    let ended = false;
    for (; i < p.length; i++) {
      const c = p[i]!;
      if (c === '\\') {
        if (i + 1 >= p.length) return null;
        i++;
        arg += p[i]; // taken literally: an escaped ':' or '/' neither ends the field nor marks a path
        continue;
      }
      if (c === '/') path = true;
      if (c === ':') {
        ended = true;
        break;
      }
      arg += c;
    }
    fields.push({ arg, path });
    p = ended ? p.slice(i + 1) : null;
  }
  if (p !== null && p !== '' && fields.length >= 4) return null; // trailing garbage
  const n = fields.length;
  const f = (k: number): Field => fields[k]!;
  let fwd: Forward;
  switch (n) {
    case 1:
      fwd = f(0).path ? { listenPath: f(0).arg, listenPort: STREAMLOCAL, connectHost: SOCKS, connectPort: 0 } : { listenPort: a2port(f(0).arg), connectHost: SOCKS, connectPort: 0 };
      break;
    case 2:
      if (f(0).path && f(1).path) fwd = { listenPath: f(0).arg, listenPort: STREAMLOCAL, connectPath: f(1).arg, connectPort: STREAMLOCAL };
      else if (f(1).path) fwd = { listenPort: a2port(f(0).arg), connectPath: f(1).arg, connectPort: STREAMLOCAL };
      else fwd = { listenHost: f(0).arg, listenPort: a2port(f(1).arg), connectHost: SOCKS, connectPort: 0 };
      break;
    case 3:
      if (f(0).path) fwd = { listenPath: f(0).arg, listenPort: STREAMLOCAL, connectHost: f(1).arg, connectPort: a2port(f(2).arg) };
      else if (f(2).path) fwd = { listenHost: f(0).arg, listenPort: a2port(f(1).arg), connectPath: f(2).arg, connectPort: STREAMLOCAL };
      else fwd = { listenPort: a2port(f(0).arg), connectHost: f(1).arg, connectPort: a2port(f(2).arg) };
      break;
    case 4:
      fwd = { listenHost: f(0).arg, listenPort: a2port(f(1).arg), connectHost: f(2).arg, connectPort: a2port(f(3).arg) };
      break;
    default:
      return null;
  }
  if (dynamic) {
    if (n !== 1 && n !== 2) return null;
  } else {
    if (n !== 3 && n !== 4 && fwd.connectPath === undefined && fwd.listenPath === undefined) return null;
    if (fwd.connectPort <= 0 && fwd.connectPath === undefined) return null;
  }
  if ((fwd.listenPort < 0 && fwd.listenPath === undefined) || (!remote && fwd.listenPort === 0)) return null;
  return fwd;
}

function sameForward(a: Forward, b: Forward): boolean {
  return a.listenHost === b.listenHost && a.listenPort === b.listenPort && a.listenPath === b.listenPath && a.connectHost === b.connectHost && a.connectPort === b.connectPort && a.connectPath === b.connectPath;
}

// ---------------------------------------------------------------------------------------------
// Glob for Include

function hasMagic(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

function unescapeGlob(component: string): string {
  return component.replace(/\\(.)/g, '$1');
}

/** One path component's glob pattern as a RegExp; a leading `.` must be matched literally (glob(3) without GLOB_PERIOD). */
function globComponent(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '*') re += i === 0 ? '(?!\\.)[^/]*' : '[^/]*';
    else if (c === '?') re += i === 0 ? '(?!\\.)[^/]' : '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const cls = body.replace(/[\\\]^]/g, '\\$&');
      re += (i === 0 ? '(?!\\.)' : '') + (negate ? `[^/${cls}]` : `[${cls}]`);
      i = close;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

// ---------------------------------------------------------------------------------------------
// The resolver

interface Located<T> {
  value: T;
  src: SshConfigSource;
}

interface Jump {
  host: string;
  user: string | undefined;
  port: number;
  extra: string | undefined;
  hops: SshConfigJumpHop[];
  src: SshConfigSource;
}

/** Options as read, undefined = not set yet (ssh's -1 / NULL). */
interface State {
  user?: string;
  port?: number;
  hostname?: Located<string>;
  hostKeyAlias?: string;
  identityFiles: Located<string>[];
  certificateFiles: Located<string>[];
  identitiesOnly?: boolean;
  identityAgent?: Located<string>;
  forwardAgent?: boolean;
  forwardAgentSocket?: Located<string>;
  proxyCommand?: string;
  jump?: Jump | 'none';
  userKnownHosts?: Located<string[]>;
  globalKnownHosts?: Located<string[]>;
  strict?: StrictHostKeyChecking;
  ciphers?: string;
  macs?: string;
  kex?: string;
  hostKeyAlgorithms?: string;
  pubkeyAccepted?: string;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  local: Located<Forward>[];
  remote: Located<Forward>[];
  preferredAuthentications?: string;
  batchMode?: boolean;
  passwordAuthentication?: boolean;
  kbdInteractiveAuthentication?: boolean;
  compression?: boolean;
  connectionAttempts?: number;
  exitOnForwardFailure?: boolean;
  clearAllForwardings?: boolean;
  canonicalizeHostname?: string;
  ignoreUnknown?: string;
  other: Map<string, string[]>;
}

interface Context {
  /** The Host/Match state, shared with included files (ssh's activep). */
  active: { v: boolean };
  /** Inside an Include from an inactive block: parse only. */
  neverMatch: boolean;
  cmdline: boolean;
  depth: number;
}

class Resolver {
  readonly st: State = { identityFiles: [], certificateFiles: [], local: [], remote: [], other: new Map() };
  readonly unknown: SshConfigUnknown[] = [];
  readonly warnings: SshConfigWarning[] = [];
  readonly filesRead: string[] = [];
  /** The host Host lines are matched against: as typed in the first pass, the final name in the second. */
  private passHost: string;
  private finalPass = false;
  private wantFinal = false;

  constructor(private readonly input: ResolveSshConfigInput) {
    this.passHost = input.host;
  }

  resolve(): ResolvedSshConfig {
    const { input, st } = this;
    if (input.port !== undefined) {
      if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw fatal({ file: 'command-line', line: 0 }, 'usage', `Bad port '${input.port}'.`);
      st.port = input.port;
    }
    if (input.user !== undefined) st.user = input.user;
    for (const [keyword, values] of Object.entries(input.options ?? {})) {
      for (const value of typeof values === 'string' ? [values] : values) {
        const src = { file: 'command-line', line: 0 };
        try {
          this.line(`${keyword} ${value}`, src, { active: { v: true }, neverMatch: false, cmdline: true, depth: 0 });
        } catch (e) {
          if (e instanceof LineProblem) throw new SshConfigError([{ ...src, reason: e.reason, message: e.message }]);
          throw e;
        }
      }
    }
    const mainPath = input.path ?? `${input.homeDir.replace(/\/$/, '')}/.ssh/config`;
    this.readText(input.text, mainPath, 0, false, { v: true });

    // What ssh does between the passes: HostName's %h, then lower case unless it is an address.
    let host = input.host;
    if (st.hostname !== undefined) host = this.expand(st.hostname.value, { h: () => input.host }, null, st.hostname.src);
    if (!isAddress(host)) host = asciiLower(host);
    if (st.canonicalizeHostname !== undefined && st.canonicalizeHostname !== 'no' && st.canonicalizeHostname !== 'false') this.wantFinal = true;
    if (this.wantFinal) {
      this.finalPass = true;
      this.passHost = host;
      st.hostname = { value: host, src: st.hostname?.src ?? { file: mainPath, line: 0 } };
      this.readText(input.text, mainPath, 0, false, { v: true });
    }
    return this.finish(host);
  }

  private readText(text: string, file: string, depth: number, neverMatch: boolean, active: { v: boolean }): void {
    this.filesRead.push(file);
    const problems: SshConfigProblem[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const src = { file, line: i + 1 };
      try {
        this.line(lines[i]!, src, { active, neverMatch, cmdline: false, depth });
      } catch (e) {
        if (e instanceof LineProblem) problems.push({ ...src, reason: e.reason, message: e.message });
        else throw e;
      }
    }
    if (problems.length > 0) throw new SshConfigError(problems);
  }

  /** One configuration line (ssh's process_config_line). */
  private line(raw: string, src: SshConfigSource, ctx: Context): void {
    const text = raw.replace(/[ \t\r\n\f]+$/, '');
    let d = strdelim(text);
    if (d.tok === '') d = strdelim(d.rest);
    const first = d.tok;
    if (first === null || first === '' || first.startsWith('#')) return;
    const keyword = asciiLower(first);
    const rest = d.rest === null ? '' : skipWs(d.rest);
    if (rest === '') bad(`no argument after keyword "${keyword}"`);
    const name = Object.hasOwn(ALIASES, keyword) ? ALIASES[keyword]! : keyword;
    const known = TYPED.has(name) || Object.hasOwn(OTHER, name) || DEPRECATED.has(name) || UNSUPPORTED.has(name) || name === 'protocol';
    if (!known) {
      if (this.st.ignoreUnknown !== undefined && matchSshPatternList(keyword, this.st.ignoreUnknown, true) === 1) {
        this.unknown.push({ ...src, keyword, ignored: true });
        return;
      }
      if (this.input.unknownKeywords === 'collect') {
        this.unknown.push({ ...src, keyword, ignored: false });
        return;
      }
      throw new LineProblem('bad-option', `Bad configuration option: ${keyword}`);
    }
    const argv = argvSplit(rest);
    if (argv === null) bad('invalid quotes');
    const args = new Args(argv);
    const on = ctx.active.v;
    this.keyword(name, keyword, args, rest, src, ctx, on);
    if (args.left > 0) bad(`keyword ${keyword} extra arguments at end of line`);
  }

  private keyword(name: string, keyword: string, args: Args, rest: string, src: SshConfigSource, ctx: Context, on: boolean): void {
    const st = this.st;
    if (name === 'protocol') return args.consume();
    if (DEPRECATED.has(name)) {
      this.warnings.push({ ...src, message: `Deprecated option "${keyword}"` });
      return args.consume();
    }
    if (UNSUPPORTED.has(name)) {
      this.warnings.push({ ...src, message: `Unsupported option "${keyword}"` });
      return args.consume();
    }
    const one = (): string => {
      const a = args.next();
      if (a === undefined || a === '') bad('Missing argument.');
      return a;
    };
    const flag = (): boolean => yes(flagValue(args.next()));
    const time = (): number | undefined => {
      const a = args.next();
      if (a === undefined || a === '') bad('missing time value.');
      if (a === 'none') return undefined;
      const v = convtime(a);
      if (v < 0) bad('invalid time value.');
      return v;
    };
    const setOnce = <K extends keyof State>(key: K, value: State[K] | undefined): void => {
      if (on && st[key] === undefined && value !== undefined) st[key] = value;
    };
    switch (name) {
      case 'host':
        return this.host(args, ctx);
      case 'match':
        if (ctx.cmdline) bad('Host directive not supported as a command-line option');
        ctx.active.v = ctx.neverMatch ? false : this.match(rest, src, ctx);
        return args.consume();
      case 'include':
        return this.include(args, src, ctx);
      case 'hostname':
        if (on && st.hostname === undefined) st.hostname = { value: one(), src };
        else one();
        return;
      case 'user':
        return setOnce('user', one());
      case 'port': {
        const a = one();
        const p = a2port(a);
        if (p <= 0) bad(`Bad port '${a}'.`);
        return setOnce('port', p);
      }
      case 'hostkeyalias':
        return setOnce('hostKeyAlias', one());
      case 'identityfile':
      case 'certificatefile': {
        const a = one();
        if (!on) return;
        const list = name === 'identityfile' ? st.identityFiles : st.certificateFiles;
        if (list.length >= MAX_FILE_ENTRIES) bad(`Too many ${name === 'identityfile' ? 'identity' : 'certificate'} files specified (max ${MAX_FILE_ENTRIES}).`);
        if (!list.some((f) => f.value === a)) list.push({ value: a, src });
        return;
      }
      case 'identitiesonly':
        return setOnce('identitiesOnly', flag());
      case 'identityagent': {
        const a = one();
        this.checkAgentPath(a, src);
        if (on && st.identityAgent === undefined) st.identityAgent = { value: a, src };
        return;
      }
      case 'forwardagent': {
        const a = args.next();
        if (a === undefined || a === '') bad('missing argument.');
        const v = asciiLower(a);
        if (FLAG.includes(v)) return setOnce('forwardAgent', yes(v));
        setOnce('forwardAgent', true);
        this.checkAgentPath(a, src);
        if (on && st.forwardAgentSocket === undefined) st.forwardAgentSocket = { value: a, src };
        return;
      }
      case 'proxycommand': {
        const value = rest.replace(/^[ \t\r\n=]+/, '');
        if (on && st.proxyCommand === undefined && st.jump === undefined) st.proxyCommand = value;
        return args.consume();
      }
      case 'proxyjump':
        this.proxyJump(rest.replace(/^[ \t\r\n=]+/, ''), on, src);
        return args.consume();
      case 'userknownhostsfile':
      case 'globalknownhostsfile': {
        const values: string[] = [];
        for (let a = args.next(); a !== undefined; a = args.next()) {
          if (a === '') bad(`keyword ${keyword} empty argument`);
          if (asciiLower(a) === 'none' && (values.length > 0 || args.left > 0)) bad(`keyword ${keyword} "none" argument must appear alone.`);
          if (values.length >= MAX_HOSTS_FILES) bad(`too many ${keyword} entries.`);
          values.push(a);
        }
        if (values.length === 0) return; // only a comment: ssh sets nothing
        return setOnce(name === 'userknownhostsfile' ? 'userKnownHosts' : 'globalKnownHosts', { value: values, src });
      }
      case 'stricthostkeychecking': {
        const v = flagValue(args.next(), [...FLAG, 'ask', 'off', 'accept-new']);
        return setOnce('strict', v === 'ask' ? 'ask' : v === 'accept-new' ? 'accept-new' : yes(v) ? 'yes' : 'no');
      }
      case 'ciphers':
        return setOnce('ciphers', one());
      case 'macs':
        return setOnce('macs', one());
      case 'kexalgorithms':
        return setOnce('kex', one());
      case 'hostkeyalgorithms':
        return setOnce('hostKeyAlgorithms', one());
      case 'pubkeyacceptedalgorithms':
        return setOnce('pubkeyAccepted', one());
      case 'serveraliveinterval':
        return setOnce('serverAliveInterval', time());
      case 'connecttimeout':
        return setOnce('connectTimeout', time());
      case 'serveralivecountmax':
        return setOnce('serverAliveCountMax', parseInt32(args.next()));
      case 'connectionattempts':
        return setOnce('connectionAttempts', parseInt32(args.next()));
      case 'localforward':
      case 'remoteforward':
      case 'dynamicforward':
        return this.forward(name, args, src, on);
      case 'preferredauthentications':
        return setOnce('preferredAuthentications', one());
      case 'batchmode':
        return setOnce('batchMode', flag());
      case 'passwordauthentication':
        return setOnce('passwordAuthentication', flag());
      case 'kbdinteractiveauthentication':
        return setOnce('kbdInteractiveAuthentication', flag());
      case 'compression':
        return setOnce('compression', flagValue(args.next(), ['yes', 'no']) === 'yes');
      case 'exitonforwardfailure':
        return setOnce('exitOnForwardFailure', flag());
      case 'clearallforwardings':
        return setOnce('clearAllForwardings', flag());
      default:
        return this.other(name, args, rest, on);
    }
  }

  /** A keyword kept raw: check its shape the way ssh would, then record it. */
  private other(name: string, args: Args, rest: string, on: boolean): void {
    const kind = OTHER[name] ?? 'one';
    let value: string;
    if (kind === 'rest') {
      value = rest.replace(/^[ \t\r\n=]+/, '');
      args.consume();
    } else if (kind === 'many') {
      const all: string[] = [];
      for (let a = args.next(); a !== undefined; a = args.next()) all.push(a);
      if (all.length === 0) return;
      value = all.join(' ');
    } else {
      const a = args.next();
      if (a === undefined || a === '') bad('Missing argument.');
      value = a;
      if (kind === 'flag') flagValue(a);
      else if (Array.isArray(kind)) flagValue(a, kind);
      else if (kind === 'time' && a !== 'none' && convtime(a) < 0) bad('invalid time value.');
      else if (kind === 'int') parseInt32(a);
      else if (kind === 'one-or-two') {
        const b = args.next();
        if (b !== undefined) value += ` ${b}`;
      }
    }
    if (name === 'canonicalizehostname' && on && this.st.canonicalizeHostname === undefined) this.st.canonicalizeHostname = asciiLower(value);
    if (name === 'ignoreunknown' && on && this.st.ignoreUnknown === undefined) this.st.ignoreUnknown = value;
    if (!on) return;
    const list = this.st.other.get(name);
    if (list) list.push(value);
    else this.st.other.set(name, [value]);
  }

  private host(args: Args, ctx: Context): void {
    if (ctx.cmdline) bad('Host directive not supported as a command-line option');
    ctx.active.v = false;
    for (let a = args.next(); a !== undefined; a = args.next()) {
      if (a === '') bad('keyword host empty argument');
      if (ctx.neverMatch) return args.consume();
      const negated = a.startsWith('!');
      if (matchSshPattern(this.passHost, negated ? a.slice(1) : a)) {
        if (negated) {
          ctx.active.v = false;
          return args.consume();
        }
        ctx.active.v = true;
      }
    }
  }

  /** ssh's match_cfg_line: true when every criterion holds. */
  private match(condition: string, src: SshConfigSource, ctx: Context): boolean {
    const { input, st } = this;
    const port = st.port ?? 22;
    const ruser = st.user ?? input.localUser;
    let host: string;
    if (this.finalPass) host = st.hostname?.value ?? input.host;
    else if (st.hostname !== undefined) host = this.expand(st.hostname.value, { h: () => input.host }, null, st.hostname.src);
    else host = input.host;
    let result = true;
    let attributes = 0;
    let cp: string | null = condition;
    for (;;) {
      const d = strdelim(cp);
      cp = d.rest;
      const oattrib = d.tok;
      if (oattrib === null || oattrib === '') break;
      if (oattrib.startsWith('#')) break;
      const negate = oattrib.startsWith('!');
      const attrib = asciiLower(negate ? oattrib.slice(1) : oattrib);
      const holds = (r: boolean): void => {
        if (r === negate) result = false;
      };
      if (attrib === 'all') {
        const next = strdelim(cp).tok;
        if (attributes > 1 || (next !== null && next !== '' && !next.startsWith('#'))) bad(`'${oattrib}' cannot be combined with other Match attributes`);
        if (result) result = !negate;
        return result;
      }
      attributes++;
      if (attrib === 'canonical' || attrib === 'final') {
        if (attrib === 'final' && !this.finalPass) this.wantFinal = true;
        holds(this.finalPass);
        continue;
      }
      const ad = strdelim(cp);
      cp = ad.rest;
      const arg = ad.tok;
      if (arg === null || arg === '' || arg.startsWith('#')) bad(`Missing Match criteria for ${attrib}`);
      switch (attrib) {
        case 'host':
          holds(matchSshPatternList(asciiLower(host), arg, true) === 1);
          break;
        case 'originalhost':
          holds(matchSshPatternList(asciiLower(input.host), arg, true) === 1);
          break;
        case 'user':
          holds(matchSshPatternList(ruser, arg, false) === 1);
          break;
        case 'localuser':
          holds(matchSshPatternList(input.localUser, arg, false) === 1);
          break;
        case 'exec': {
          if (!result || ctx.neverMatch) break; // ssh skips the command once the line has failed; parse-only blocks never apply
          const keys = this.tokens(host, String(port), ruser, st.hostKeyAlias ?? host);
          const cmd = this.expand(arg, keys, null, src);
          if (input.exec === undefined) throw fatal(src, 'match-exec', `Match exec "${cmd}" needs input.exec to run the command (not supported without it)`);
          holds(input.exec(cmd));
          break;
        }
        default:
          bad(`Unsupported Match attribute ${attrib}`);
      }
    }
    if (attributes === 0) bad('One or more attributes required for Match');
    return result;
  }

  private include(args: Args, src: SshConfigSource, ctx: Context): void {
    if (ctx.cmdline) bad('Include directive not supported as a command-line option');
    const { input } = this;
    for (let arg = args.next(); arg !== undefined; arg = args.next()) {
      if (arg === '') bad('keyword include empty argument');
      if (arg.startsWith('~') && input.system) bad(`bad include path ${arg}.`);
      const files = input.files;
      if (files === undefined) throw fatal(src, 'include-unavailable', `Include ${arg} needs input.files to read included files`);
      const path = arg.startsWith('/') || arg.startsWith('~') ? arg : `${input.system ? '/etc/ssh' : '~/.ssh'}/${arg}`;
      const matches = this.glob(this.tilde(path, src, true), files);
      const outer = ctx.active.v;
      for (const m of matches) {
        const text = files.read(m);
        if (text === undefined) continue;
        if (ctx.depth + 1 > MAX_INCLUDE_DEPTH) throw fatal(src, 'include-depth', `Too many recursive configuration includes (more than ${MAX_INCLUDE_DEPTH} deep) at ${m}`);
        this.readText(text, m, ctx.depth + 1, ctx.neverMatch || !outer, ctx.active);
        ctx.active.v = outer; // a Match in the included file does not change the including file's state
      }
    }
  }

  private glob(path: string, files: SshConfigFiles): string[] {
    const parts = path.split('/');
    if (!parts.some(hasMagic)) return [unescapeGlob(path)];
    let prefixes = [parts[0] === '' ? '' : unescapeGlob(parts[0]!)];
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '' && i < parts.length - 1) continue; // a doubled slash
      const next: string[] = [];
      for (const prefix of prefixes) {
        if (!hasMagic(part)) {
          next.push(`${prefix}/${unescapeGlob(part)}`);
          continue;
        }
        const re = globComponent(part);
        for (const name of files.list(prefix === '' ? '/' : prefix) ?? []) if (re.test(name)) next.push(`${prefix}/${name}`);
      }
      prefixes = next;
    }
    return prefixes.sort(compareCodePoints);
  }

  private forward(name: string, args: Args, src: SshConfigSource, on: boolean): void {
    const a = args.next();
    if (a === undefined || a === '') bad('Missing argument.');
    const remote = name === 'remoteforward';
    let dynamic = name === 'dynamicforward';
    let spec = a;
    if (!dynamic) {
      const b = args.next();
      if (b === undefined || b === '') {
        if (remote) dynamic = true;
        else bad('Missing target argument.');
      } else spec = `${a}:${b}`;
    }
    const expanded = this.dollar(spec, src, true);
    const fwd = expanded === null ? null : parseForward(expanded, dynamic, remote);
    if (fwd === null) bad('Bad forwarding specification.');
    if (!on) return;
    const list = remote ? this.st.remote : this.st.local;
    if (!list.some((f) => sameForward(f.value, fwd))) list.push({ value: fwd, src });
  }

  /** ssh's parse_jump: syntax of every hop; the last hop, user, port and the earlier hops are stored when active. */
  private proxyJump(value: string, on: boolean, src: SshConfigSource): void {
    const st = this.st;
    const active = on && st.proxyCommand === undefined && st.jump === undefined;
    const hash = value.indexOf('#');
    const text = (hash >= 0 ? value.slice(0, hash) : value).replace(/[ \t\r\n]+$/, '');
    if (asciiLower(value) === 'none') {
      if (active) st.jump = 'none';
      return;
    }
    const hops: SshConfigJumpHop[] = [];
    for (const part of text.split(',')) {
      const hop = parseJumpHop(part);
      if (hop === null) bad(`Invalid ProxyJump "${value}"`);
      hops.push(hop);
    }
    if (!active) return;
    const last = hops[hops.length - 1]!;
    const comma = text.lastIndexOf(',');
    st.jump = { host: last.host, user: last.user, port: last.port ?? -1, extra: comma > 0 ? text.slice(0, comma) : undefined, hops, src };
    st.proxyCommand = 'none';
  }

  /** ForwardAgent/IdentityAgent: `${VAR}` must expand, a legacy `$NAME` must be a valid name. */
  private checkAgentPath(a: string, src: SshConfigSource): void {
    if (this.dollar(a, src, true) === null) bad(`Invalid environment expansion ${a}.`);
    if (a.startsWith('$') && a[1] !== '{' && !/^[A-Za-z0-9_]+$/.test(a.slice(1))) bad(`Invalid environment name ${a}.`);
  }

  // -- expansion -------------------------------------------------------------------------------

  /** The token table ssh uses for IdentityFile & co. (DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
  private tokens(host: string, port: string, user: string, keyAlias: string): Record<string, () => string> {
    const { input } = this;
    const thisHost = (token: string): string => {
      if (input.localHostname === undefined) throw new LineProblem('expansion', `%${token} needs input.localHostname`);
      return input.localHostname;
    };
    return {
      C: () => bytesToHex(sha1(new TextEncoder().encode(thisHost('C') + host + port + user))),
      L: () => thisHost('L').split('.')[0]!,
      i: () => {
        if (input.uid === undefined) throw new LineProblem('expansion', '%i needs input.uid');
        return String(input.uid);
      },
      k: () => keyAlias,
      l: () => thisHost('l'),
      n: () => input.host,
      p: () => port,
      d: () => input.homeDir,
      h: () => host,
      r: () => user,
      u: () => input.localUser,
    };
  }

  /** ssh's percent_expand (and, with `env`, `${VAR}` first, as percent_dollar_expand). Errors carry `src`. */
  private expand(s: string, keys: Record<string, () => string>, dollar: true | null, src: SshConfigSource): string {
    try {
      let out = '';
      for (let i = 0; i < s.length; i++) {
        const c = s[i]!;
        if (dollar && c === '$' && s[i + 1] === '{') {
          const end = s.indexOf('}', i + 2);
          if (end < 0) throw new LineProblem('expansion', `environment variable '${s.slice(i + 2)}' missing closing '}'`);
          out += this.envVar(s.slice(i + 2, end));
          i = end;
          continue;
        }
        if (c !== '%') {
          out += c;
          continue;
        }
        const t = s[++i];
        if (t === '%') out += '%';
        else if (t === undefined) throw new LineProblem('expansion', `invalid format: "${s}" ends with %`);
        else {
          const f = Object.hasOwn(keys, t) ? keys[t] : undefined;
          if (f === undefined) throw new LineProblem('expansion', `unknown key %${t} in "${s}"`);
          out += f();
        }
      }
      return out;
    } catch (e) {
      if (e instanceof LineProblem) throw fatal(src, e.reason, e.message);
      throw e;
    }
  }

  private envVar(name: string): string {
    if (name === '') throw new LineProblem('expansion', 'zero-length environment variable');
    if (this.input.env === undefined) throw new LineProblem('expansion', `\${${name}} needs input.env`);
    const v = Object.hasOwn(this.input.env, name) ? this.input.env[name] : undefined;
    if (v === undefined) throw new LineProblem('expansion', `env var \${${name}} has no value`);
    return v;
  }

  /** ssh's dollar_expand; null when a variable is missing or malformed (callers turn that into their own message). */
  private dollar(s: string, src: SshConfigSource, soft: boolean): string | null {
    if (!s.includes('${')) return s;
    if (this.input.env === undefined) throw fatal(src, 'expansion', `${s}: \${…} needs input.env`);
    try {
      return this.expand(s.replace(/%/g, '%%'), {}, true, src);
    } catch (e) {
      if (soft && e instanceof SshConfigError) return null;
      throw e;
    }
  }

  /** ssh's tilde_expand_filename (`~`, `~/x`, `~user/x`); `forGlob` gives glob(3)'s GLOB_TILDE spelling (no slash added for a bare `~`). */
  private tilde(p: string, src: SshConfigSource, forGlob = false): string {
    if (!p.startsWith('~')) return p;
    const body = p.slice(1);
    let user: string | undefined;
    let path: string | undefined;
    if (body === '') path = undefined;
    else if (body.startsWith('/')) path = body.replace(/^\/+/, '') || undefined;
    else {
      const slash = body.indexOf('/');
      user = slash < 0 ? body : body.slice(0, slash);
      path = slash < 0 ? undefined : body.slice(slash + 1).replace(/^\/+/, '') || undefined;
    }
    const { input } = this;
    const dir = user === undefined || user === input.localUser ? input.homeDir : input.homeDirOf?.(user);
    if (dir === undefined) throw fatal(src, 'expansion', `No such user ${user} (for ${p}; give input.homeDirOf)`);
    if (forGlob && path === undefined) return dir;
    return `${dir}${dir === '' || !dir.endsWith('/') ? '/' : ''}${path ?? ''}`;
  }

  // -- the result ------------------------------------------------------------------------------

  private finish(host: string): ResolvedSshConfig {
    const { st, input } = this;
    const port = st.port ?? 22;
    const user = st.user ?? input.localUser;
    const hostKeyAlias = st.hostKeyAlias === undefined ? undefined : asciiLower(st.hostKeyAlias);
    const keys = this.tokens(host, String(port), user, hostKeyAlias ?? input.host);
    const path = (v: Located<string>): string => this.expand(this.tilde(v.value, v.src), keys, true, v.src);

    const identityFileDefaulted = st.identityFiles.length === 0;
    const identitySources = identityFileDefaulted ? DEFAULT_IDENTITY_FILES.map((value) => ({ value, src: { file: 'default', line: 0 } })) : st.identityFiles;
    const identityFile = identitySources.filter((f) => asciiLower(f.value) !== 'none').map(path);
    const certificateFile = st.certificateFiles.map(path);
    const hostsFiles = (v: Located<string[]> | undefined, dflt: string[], expandTokens: boolean): string[] => {
      const list = v ?? { value: dflt, src: { file: 'default', line: 0 } };
      if (list.value.length > 0 && asciiLower(list.value[0]!) === 'none') return [];
      return list.value.map((value) => (expandTokens ? path({ value, src: list.src }) : this.tilde(value, list.src)));
    };
    const userKnownHostsFile = hostsFiles(st.userKnownHosts, ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'], true);
    const globalKnownHostsFile = hostsFiles(st.globalKnownHosts, ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'], false);

    const clear = st.clearAllForwardings === true;
    const forwardPaths = (f: Located<Forward>): Forward => {
      const out: Forward = { ...f.value };
      if (out.listenPath !== undefined) out.listenPath = this.expand(out.listenPath, keys, null, f.src);
      if (out.connectPath !== undefined) out.connectPath = this.expand(out.connectPath, keys, null, f.src);
      return out;
    };
    const local = clear ? [] : st.local.map(forwardPaths);
    const remote = clear ? [] : st.remote.map(forwardPaths);

    let proxyJump: string | undefined;
    let proxyJumpHops: SshConfigJumpHop[] = [];
    const jump = st.jump;
    if (jump !== undefined && jump !== 'none') {
      const numeric = jump.host.includes(':') || /^[0-9.]+$/.test(jump.host);
      proxyJump = `${jump.extra !== undefined ? `${jump.extra},` : ''}${jump.user !== undefined ? `${jump.user}@` : ''}${numeric ? `[${jump.host}]` : jump.host}${jump.port > 0 ? `:${jump.port}` : ''}`;
      const jumpKeys = { h: keys.h!, n: keys.n!, p: keys.p!, r: keys.r! };
      const src = jump.src;
      proxyJumpHops = jump.hops.map((h) => ({
        ...(h.user !== undefined ? { user: this.expand(h.user, jumpKeys, null, src) } : {}),
        host: this.expand(h.host, jumpKeys, null, src),
        ...(h.port !== undefined ? { port: h.port } : {}),
      }));
    }
    const proxyCommand = jump !== undefined || st.proxyCommand === undefined || asciiLower(st.proxyCommand) === 'none' ? undefined : st.proxyCommand;

    const agentPath = (v: Located<string> | undefined): string | undefined => (v === undefined ? undefined : path(v));
    return {
      host: input.host,
      hostname: host,
      port,
      user,
      identityFile,
      identityFileDefaulted,
      certificateFile,
      identitiesOnly: st.identitiesOnly ?? false,
      identityAgent: agentPath(st.identityAgent),
      forwardAgent: st.forwardAgent ?? false,
      forwardAgentSocket: agentPath(st.forwardAgentSocket),
      proxyJump,
      proxyJumpHops,
      proxyCommand,
      hostKeyAlias,
      userKnownHostsFile,
      globalKnownHostsFile,
      strictHostKeyChecking: st.strict ?? 'ask',
      ciphers: st.ciphers,
      macs: st.macs,
      kexAlgorithms: st.kex,
      hostKeyAlgorithms: st.hostKeyAlgorithms,
      pubkeyAcceptedAlgorithms: st.pubkeyAccepted,
      serverAliveInterval: st.serverAliveInterval ?? 0,
      serverAliveCountMax: st.serverAliveCountMax ?? 3,
      connectTimeout: st.connectTimeout,
      localForward: local.filter((f) => !isSocks(f)).map(publicForward),
      remoteForward: remote.map(publicForward),
      dynamicForward: local.filter(isSocks).map((f) => {
        const { listenHost, listenPort, listenPath } = publicForward(f);
        return { ...(listenHost !== undefined ? { listenHost } : {}), ...(listenPort !== undefined ? { listenPort } : {}), ...(listenPath !== undefined ? { listenPath } : {}) };
      }),
      preferredAuthentications: st.preferredAuthentications?.split(','),
      batchMode: st.batchMode ?? false,
      passwordAuthentication: st.passwordAuthentication ?? true,
      kbdInteractiveAuthentication: st.kbdInteractiveAuthentication ?? true,
      compression: st.compression ?? false,
      connectionAttempts: st.connectionAttempts ?? 1,
      exitOnForwardFailure: st.exitOnForwardFailure ?? false,
      clearAllForwardings: clear,
      other: Object.fromEntries(st.other),
      unknown: this.unknown,
      warnings: this.warnings,
      files: this.filesRead,
    };
  }
}

function publicForward(f: Forward): SshConfigForward {
  const dynamic = isSocks(f);
  return {
    ...(f.listenHost !== undefined ? { listenHost: f.listenHost } : {}),
    ...(f.listenPath !== undefined ? { listenPath: f.listenPath } : { listenPort: f.listenPort }),
    ...(!dynamic && f.connectHost !== undefined ? { connectHost: f.connectHost } : {}),
    ...(!dynamic && f.connectPath !== undefined ? { connectPath: f.connectPath } : {}),
    ...(!dynamic && f.connectPath === undefined ? { connectPort: f.connectPort } : {}),
    ...(dynamic ? { dynamic: true as const } : {}),
  };
}

function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function fatal(src: SshConfigSource, reason: SshConfigErrorReason, message: string): SshConfigError {
  return new SshConfigError([{ ...src, reason, message }]);
}

/** The arguments of one line, consumed in order (ssh's argv_next); what is left over is an error. */
class Args {
  private i = 0;
  constructor(private readonly argv: readonly string[]) {}
  next(): string | undefined {
    return this.argv[this.i++];
  }
  get left(): number {
    return Math.max(0, this.argv.length - this.i);
  }
  consume(): void {
    this.i = this.argv.length;
  }
}

/**
 * Resolve the ssh_config settings for `input.host`, as OpenSSH 9.2's `ssh -G` would (see the module
 * comment for what is and is not supported). Throws {@link SshConfigError} for a configuration ssh
 * refuses.
 */
export function resolveSshConfig(input: ResolveSshConfigInput): ResolvedSshConfig {
  return new Resolver(input).resolve();
}
