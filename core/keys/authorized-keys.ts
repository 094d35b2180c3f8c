/**
 * authorized_keys files, as sshd(8) "AUTHORIZED_KEYS FILE FORMAT" describes them: one key per line
 * as `[options] keytype base64-key [comment]`, `#` comments and blank lines ignored.
 *
 * Options are comma-separated, keywords case-insensitive, no spaces except inside double quotes,
 * and a `\"` inside a quoted value stands for a quote (any other backslash is kept as it is, as
 * sshd does). Supported: `restrict`, `cert-authority`, `[no-]pty`, `[no-]port-forwarding`,
 * `[no-]agent-forwarding`, `[no-]X11-forwarding`, `[no-]user-rc`, `[no-]touch-required`,
 * `[no-]verify-required`, `command=`, `from=`, `principals=`, `expiry-time=`, `environment=`
 * (repeatable, the first value of a name wins), `permitopen=` and `permitlisten=` (repeatable),
 * `tunnel=`.
 *
 * Flags apply in order, as in sshd: `restrict` turns pty, user-rc and agent/X11/port forwarding off
 * at its position, and a positive flag after it (`restrict,pty`) turns that one back on; `restrict`
 * also forbids tunnel forwarding, which no option re-enables.
 *
 * Leniency follows sshd: a line with a bad option is not usable, so it is skipped with a warning
 * (file:line, what is wrong, how to fix it) while the other lines still work. Lines sshd would
 * accept but never let authenticate (`principals=` without `cert-authority`, a malformed `from=`
 * network) are skipped with a 'never-matches' warning.
 *
 * `expiry-time` is parsed here without Date: YYYYMMDD[HHMM[SS]] with an optional `Z`/`UTC` suffix.
 * sshd reads an unsuffixed time in the server's time zone; core has no time zone, so the parser
 * takes a `localTime` resolver (io-node passes one built on the system zone) and otherwise reads
 * it as UTC.
 */
import type { PublicKey } from './public-key.ts';
import { bytesEqual } from './public-key.ts';
import { matchFromPatternList, validateFromPatternList } from './host-patterns.ts';
import { parseKeyFields, splitLines, trustWarning, type TrustFileWarning } from './known-hosts.ts';

export type { TrustFileWarning } from './known-hosts.ts';

/** A `permitopen`/`permitlisten` target. Host `*` means any host; port `*` any port. */
export interface PermitTarget {
  readonly host: string;
  readonly port: number | '*';
}

export interface AuthorizedKeyOptions {
  readonly restrict: boolean;
  readonly certAuthority: boolean;
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
  readonly touchRequired: boolean;
  readonly verifyRequired: boolean;
  readonly command?: string;
  readonly from?: string;
  readonly principals?: readonly string[];
  /** Unix seconds; the key is refused after this instant (the earliest of several expiry-time options). */
  readonly expiresAt?: number;
  /** In file order, first value per name. */
  readonly environment: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly permitOpen: readonly PermitTarget[];
  readonly permitListen: readonly PermitTarget[];
  readonly tunnel?: number | 'any';
}

export interface AuthorizedKeyEntry {
  readonly source: string;
  readonly line: number;
  readonly options: AuthorizedKeyOptions;
  /** The options exactly as written (empty when none). */
  readonly optionsText: string;
  readonly key: PublicKey;
  readonly comment: string;
}

export interface AuthorizedKeysFile {
  readonly entries: AuthorizedKeyEntry[];
  readonly warnings: TrustFileWarning[];
}

/** Broken-down civil time for {@link ParseAuthorizedKeysOptions.localTime}; month is 1-12. */
export interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export interface ParseAuthorizedKeysOptions {
  /** Convert an unsuffixed expiry-time (server local time in sshd) to unix seconds. Default: read it as UTC. */
  readonly localTime?: (t: CivilTime) => number;
}

/** What the connection layer enforces for a session authenticated by an entry. */
export interface SessionPolicy {
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
  /** False under `restrict`. */
  readonly tunnelForwarding: boolean;
  /** `tunnel="n"`: the tun device to force ('any' = the next free one). */
  readonly tunnelDevice?: number | 'any';
  /** `command=`: run this instead of whatever the client asked for (exec, shell or subsystem). */
  readonly forcedCommand?: string;
  /** Allowed `direct-tcpip` destinations; null = any (subject to `portForwarding`). */
  readonly permitOpen: readonly PermitTarget[] | null;
  /** Allowed `tcpip-forward` listeners; null = any (subject to `portForwarding`). */
  readonly permitListen: readonly PermitTarget[] | null;
  /** To add to the session environment — only when the server allows user environments (sshd's PermitUserEnvironment). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * cert-authority lines only: the certificate must name at least one of these principals
   * (instead of the user name, which is the rule when this is absent).
   */
  readonly principals?: readonly string[];
  /** Unix seconds after which the entry no longer authorizes. */
  readonly expiresAt?: number;
  /** FIDO keys: user presence must be proven unless `no-touch-required`. */
  readonly touchRequired: boolean;
  /** FIDO keys: user verification (PIN, biometrics) required. */
  readonly verifyRequired: boolean;
}

// ---------------------------------------------------------------------------------------------
// Time without Date

/** Days from 1970-01-01 to the given proleptic Gregorian date (the civil-from-days inverse). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Civil time in UTC → unix seconds. */
export function civilToUnixSeconds(t: CivilTime): number {
  return daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

/**
 * Parse an expiry-time value (`YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally followed by
 * `Z` or `UTC`) into unix seconds. Returns an error message instead when it is not one.
 */
export function parseExpiryTime(value: string, localTime?: (t: CivilTime) => number): number | { readonly error: string } {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2})([0-9]{2})?)?(z|utc)?$/i.exec(value);
  const bad = { error: `expiry-time="${value}" is not a time; write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with a trailing Z for UTC (e.g. expiry-time="20301231Z")` };
  if (!m) return bad;
  const t: CivilTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysInMonth(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 60) {
    return { error: `expiry-time="${value}" is not a valid date and time (month 01-12, day within the month, hour 00-23, minute and second 00-59)` };
  }
  const seconds = m[7] === undefined && localTime ? localTime(t) : civilToUnixSeconds(t);
  // sshd treats 0 as "no expiry" and rejects it, and times before 1970 cannot be meant.
  if (!(seconds > 0)) return { error: `expiry-time="${value}" is not after 1970-01-01 00:00:00 UTC` };
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// Options

/** The longest tun device number sshd accepts (SSH_TUNID_MAX). */
const TUN_MAX = 0x7ffffffd;

function parsePort(text: string): number | '*' | null {
  if (text === '*') return '*';
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/** `host:port`, `[v6]:port`; for permitlisten also a bare `port` (any host). */
function parsePermit(name: string, value: string, allowBarePort: boolean): PermitTarget | string {
  let text = value;
  if (allowBarePort && !text.includes(':')) text = `*:${text}`;
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return `${name}="${value}": an IPv6 address in brackets must be followed by :port, e.g. ${name}="[::1]:8080"`;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) return `${name}="${value}" has no port; write ${name}="host:port" (port * for any)`;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (host === '' || host.length > 1024) return `${name}="${value}" has no host name; write ${name}="host:port"${allowBarePort ? ' or just the port' : ''}`;
  const port = parsePort(portText);
  if (port === null) {
    const hint = portText.includes(':') ? ' (put an IPv6 address in brackets: [addr]:port)' : '';
    return `${name}="${value}": "${portText}" is not a port; use 1-65535 or *${hint}`;
  }
  return { host, port };
}

type MutableOptions = {
  -readonly [K in keyof AuthorizedKeyOptions]: AuthorizedKeyOptions[K] extends ReadonlyArray<infer T> ? T[] : AuthorizedKeyOptions[K];
};

const FLAGS: Record<string, keyof MutableOptions> = {
  pty: 'pty',
  'port-forwarding': 'portForwarding',
  'agent-forwarding': 'agentForwarding',
  'x11-forwarding': 'x11Forwarding',
  'user-rc': 'userRc',
  'touch-required': 'touchRequired',
  'verify-required': 'verifyRequired',
};

const VALUED = new Set(['command', 'from', 'principals', 'expiry-time', 'environment', 'permitopen', 'permitlisten', 'tunnel']);

function defaultOptions(): MutableOptions {
  // sshd's defaults for a key without options: everything permitted (FIDO keys need a touch).
  return {
    restrict: false,
    certAuthority: false,
    pty: true,
    portForwarding: true,
    agentForwarding: true,
    x11Forwarding: true,
    userRc: true,
    touchRequired: true,
    verifyRequired: false,
    environment: [],
    permitOpen: [],
    permitListen: [],
  };
}

/**
 * Parse the options field of an authorized_keys line (without the key). Returns the options or a
 * message saying which option is wrong and how to write it.
 */
export function parseAuthorizedKeyOptions(text: string, parse: ParseAuthorizedKeysOptions = {}): AuthorizedKeyOptions | { readonly error: string } {
  const o = defaultOptions();
  let i = 0;
  const fail = (error: string) => ({ error });
  while (i < text.length) {
    const nameMatch = /^[A-Za-z0-9-]+/.exec(text.slice(i));
    if (!nameMatch) return fail(`unexpected "${text.slice(i, i + 16)}" in the options at "${text.slice(0, i)}"; options are comma-separated words or name="value" with no spaces outside quotes`);
    const word = nameMatch[0];
    const name = word.toLowerCase();
    i += word.length;
    let value: string | undefined;
    if (text[i] === '=') {
      i++;
      if (text[i] !== '"') return fail(`option ${word}= needs its value in double quotes, e.g. ${word}="…"`);
      i++;
      let v = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && text[i + 1] === '"') i++;
        v += text[i];
        i++;
      }
      if (i >= text.length) return fail(`the value of ${word}= has no closing double quote`);
      i++;
      value = v;
    }

    if (value === undefined) {
      if (VALUED.has(name)) return fail(`option "${word}" needs a value: ${name}="…"`);
      if (name === 'restrict') {
        o.restrict = true;
        o.pty = o.portForwarding = o.agentForwarding = o.x11Forwarding = o.userRc = false;
      } else if (name === 'cert-authority') {
        o.certAuthority = true;
      } else {
        const negated = name.startsWith('no-');
        const flag = FLAGS[negated ? name.slice(3) : name];
        if (flag === undefined) return fail(`unknown option "${word}" (check the spelling; sshd(8) AUTHORIZED_KEYS FILE FORMAT lists the options)`);
        (o as Record<string, unknown>)[flag] = !negated;
      }
    } else {
      switch (name) {
        case 'command':
        case 'from':
        case 'principals': {
          const key = name === 'principals' ? 'principals' : name;
          if (o[key] !== undefined) return fail(`more than one ${name}= option; keep one`);
          if (name === 'principals') o.principals = value.split(',').filter((p) => p !== '');
          else o[name] = value;
          break;
        }
        case 'expiry-time': {
          const t = parseExpiryTime(value, parse.localTime);
          if (typeof t === 'object') return fail(t.error);
          if (o.expiresAt === undefined || t < o.expiresAt) o.expiresAt = t;
          break;
        }
        case 'environment': {
          const eq = value.indexOf('=');
          const envName = eq < 0 ? '' : value.slice(0, eq);
          if (!/^[A-Za-z0-9_]+$/.test(envName)) {
            return fail(`environment="${value}" must be NAME=value with a NAME of letters, digits and _`);
          }
          if (!o.environment.some((e) => e.name === envName)) o.environment.push({ name: envName, value: value.slice(eq + 1) });
          break;
        }
        case 'permitopen':
        case 'permitlisten': {
          const p = parsePermit(name, value, name === 'permitlisten');
          if (typeof p === 'string') return fail(p);
          (name === 'permitopen' ? o.permitOpen : o.permitListen).push(p);
          break;
        }
        case 'tunnel': {
          if (value.toLowerCase() === 'any') o.tunnel = 'any';
          else if (/^[0-9]{1,10}$/.test(value) && Number(value) <= TUN_MAX) o.tunnel = Number(value);
          else return fail(`tunnel="${value}" is not a tun device number; use a number such as tunnel="0" (or "any")`);
          break;
        }
        default:
          if (name === 'restrict' || name === 'cert-authority' || FLAGS[name.replace(/^no-/, '')] !== undefined) {
            return fail(`option "${word}" takes no value; write just ${word}`);
          }
          return fail(`unknown option "${word}" (check the spelling; sshd(8) AUTHORIZED_KEYS FILE FORMAT lists the options)`);
      }
    }

    if (i >= text.length) break;
    if (text[i] !== ',') return fail(`expected a comma after option "${word}" but found "${text[i]}"; options are separated by commas with no spaces outside quotes`);
    i++;
    if (i >= text.length) return fail('the options end with a comma; remove it');
  }
  return o;
}

/** Where the options end: the first blank outside double quotes (sshd's sshkey_advance_past_options). */
function endOfOptions(text: string): number | null {
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (!quoted && (c === ' ' || c === '\t')) break;
    if (c === '\\' && text[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
  }
  return quoted ? null : i;
}

/**
 * Parse an authorized_keys file. `source` names the file in entries and warnings. Never throws for
 * bad content: unusable lines are skipped and described in `warnings`.
 */
export function parseAuthorizedKeys(text: string, source: string, options: ParseAuthorizedKeysOptions = {}): AuthorizedKeysFile {
  const entries: AuthorizedKeyEntry[] = [];
  const warnings: TrustFileWarning[] = [];
  for (const { line, text: raw } of splitLines(text)) {
    const warn = (code: TrustFileWarning['code'], what: string) => warnings.push(trustWarning(source, line, code, what));
    const rest = raw.replace(/^[ \t]+/, '');
    if (rest === '' || rest.startsWith('#')) continue;

    // A line starts with the key unless its first word fails to parse as one (sshd tries the same way).
    let optionsText = '';
    let key = parseKeyFields(rest);
    if ('error' in key && !key.unsupported) {
      const end = endOfOptions(rest);
      if (end === null) {
        warn('invalid-line', 'a double quote in the options is never closed; close it (a quote inside a value is written \\")');
        continue;
      }
      const afterOptions = parseKeyFields(rest.slice(end));
      if ('error' in afterOptions && !/^[ \t]/.test(rest.slice(end))) {
        warn('invalid-line', `expected "[options] keytype base64-key [comment]" but found no key: ${key.error}`);
        continue;
      }
      optionsText = rest.slice(0, end);
      key = afterOptions;
    }
    if ('error' in key) {
      warn(key.unsupported ? 'unsupported-key-type' : 'invalid-line', key.error);
      continue;
    }
    if (key.problem !== undefined) {
      warn('invalid-line', `${key.problem}, so it cannot log in; replace it with the user's current public key`);
      continue;
    }
    if (key.key === null) {
      warn('unsupported-key-type', `key type "${key.keyType}" is not supported, so this key cannot log in here`);
      continue;
    }
    const parsed = parseAuthorizedKeyOptions(optionsText, options);
    if ('error' in parsed) {
      warn('invalid-line', `bad options, the key on this line is not usable: ${parsed.error}`);
      continue;
    }
    if (parsed.principals !== undefined && !parsed.certAuthority) {
      warn('never-matches', 'principals= only applies to cert-authority lines, and sshd refuses a plain key that carries it; add cert-authority or remove principals=');
      continue;
    }
    if (parsed.from !== undefined) {
      const invalid = validateFromPatternList(parsed.from);
      if (invalid !== null) {
        warn('never-matches', `from="${parsed.from}" is invalid (${invalid}), and sshd then refuses the key; fix the pattern`);
        continue;
      }
    }
    entries.push({ source, line, options: parsed, optionsText, key: key.key, comment: key.comment });
  }
  return { entries, warnings };
}

// ---------------------------------------------------------------------------------------------
// Authorization

export interface AuthorizedKeyQuery {
  /** The key the client authenticates with (for a certificate: the certified key; unused then). */
  readonly key: PublicKey;
  /**
   * For certificate authentication: the CA that signed the client's certificate. Only
   * `cert-authority` lines for this CA are considered. The caller verifies the certificate itself
   * (signature, validity, user type, principals against `policy.principals` or the user name) and
   * applies its critical options and extensions on top of the returned policy.
   */
  readonly certificateCa?: PublicKey;
  /** The client's IP address (IPv4-mapped IPv6 is treated as IPv4). Required for `from=` lines to match. */
  readonly clientAddress?: string;
  /** The client's verified host name, if the server looks names up; otherwise the address stands in. */
  readonly clientHostname?: string;
  /** Unix seconds, supplied by the adapter. */
  readonly now: number;
}

export interface AuthorizedKeyMatch {
  readonly entry: AuthorizedKeyEntry;
  readonly policy: SessionPolicy;
}

/** The session policy an entry's options grant. */
export function sessionPolicy(options: AuthorizedKeyOptions): SessionPolicy {
  return {
    pty: options.pty,
    portForwarding: options.portForwarding,
    agentForwarding: options.agentForwarding,
    x11Forwarding: options.x11Forwarding,
    userRc: options.userRc,
    tunnelForwarding: !options.restrict,
    ...(options.tunnel !== undefined ? { tunnelDevice: options.tunnel } : {}),
    ...(options.command !== undefined ? { forcedCommand: options.command } : {}),
    permitOpen: options.permitOpen.length > 0 ? options.permitOpen : null,
    permitListen: options.permitListen.length > 0 ? options.permitListen : null,
    // fromEntries defines own properties, so a variable named __proto__ cannot reach the prototype.
    environment: Object.fromEntries(options.environment.map((e) => [e.name, e.value])),
    ...(options.principals !== undefined ? { principals: options.principals } : {}),
    ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt } : {}),
    touchRequired: options.touchRequired,
    verifyRequired: options.verifyRequired,
  };
}

/**
 * The first entry that authorizes the key (or the certificate's CA) for this client now, with the
 * session policy it grants; null when none does. Like sshd, an entry for the right key that fails
 * its `from=` or `expiry-time` check does not stop the search: a later line may still authorize.
 * A plain key never matches a `cert-authority` line and a CA never matches a plain line.
 */
export function findAuthorizedKey(entries: readonly AuthorizedKeyEntry[], query: AuthorizedKeyQuery): AuthorizedKeyMatch | null {
  const wanted = query.certificateCa ?? query.key;
  const wantCa = query.certificateCa !== undefined;
  for (const entry of entries) {
    const o = entry.options;
    if (o.certAuthority !== wantCa || !bytesEqual(entry.key.blob, wanted.blob)) continue;
    if (o.expiresAt !== undefined && o.expiresAt < query.now) continue;
    if (o.from !== undefined && !matchFromPatternList(o.from, { address: query.clientAddress, hostname: query.clientHostname })) continue;
    return { entry, policy: sessionPolicy(o) };
  }
  return null;
}
