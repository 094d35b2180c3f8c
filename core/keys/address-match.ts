/**
 * Address lists of the kind OpenSSH checks against the client's IP address: the `source-address`
 * critical option of user certificates (PROTOCOL.certkeys, "Critical options": "Comma-separated
 * list of source addresses … in CIDR format (nn.nn.nn.nn/nn or hhhh::hhhh/nn)") and the CIDR
 * entries of authorized_keys `from=` (sshd(8), AUTHORIZED_KEYS FILE FORMAT). Text forms follow
 * RFC 4291 section 2.2 (IPv6, incl. `::` and a trailing dotted quad) and section 2.3 (prefixes).
 *
 * The rules are OpenSSH's (addrmatch.c, as observed behaviour):
 * - a list entry is an address or `address/prefix`; an address alone means /32 or /128;
 * - an entry whose host bits are not zero (`10.0.0.1/8`) is invalid, not silently widened;
 * - an empty entry, a prefix beyond 32/128, characters outside `0-9a-fA-F.:/` or an entry longer
 *   than 49 characters makes the whole list invalid;
 * - an invalid list matches nothing: callers refuse rather than guess;
 * - an IPv4 address never matches an IPv6 entry and vice versa.
 *
 * Two deliberate differences, both in the refusing direction:
 * - only canonical text is read: dotted quads of four decimal parts without leading zeros (the
 *   `getaddrinfo` behind OpenSSH also takes inet_aton shorthands such as `10.1` or `012.0.0.1`,
 *   which is octal, a classic way to misread a restriction), and IPv6 without a zone (`%eth0`);
 * - the client address may be an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack
 *   socket reports for an IPv4 peer); it is compared as the IPv4 address, as sshd does when it
 *   records the peer address. List entries are taken as written, again as in sshd.
 *
 * Nothing here throws on bad input: every function answers false or null.
 */

export type IpAddress = {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
};

export type Cidr = {
  /** The network address; its host bits are zero. */
  readonly network: IpAddress;
  /** 0..32 for IPv4, 0..128 for IPv6. */
  readonly prefixLength: number;
};

/** OpenSSH's entry limit: INET6_ADDRSTRLEN (46) plus room for "/nnn". */
const MAX_ENTRY_LENGTH = 49;
const CIDR_CHARS = /^[0-9a-fA-F.:/]+$/;

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    // Leading zeros are refused: inet_aton reads them as octal, a reader of the option would not.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const v = Number(part);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string, last: boolean): number[] | null => {
    if (s === '') return [];
    const words: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (last && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
        words.push(parseInt(part, 16));
      }
    }
    return words;
  };
  let words: number[];
  if (halves.length === 1) {
    const all = groupsOf(halves[0]!, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  } else {
    const head = groupsOf(halves[0]!, false);
    const tail = groupsOf(halves[1]!, true);
    // "::" stands for at least one zero group (RFC 4291 section 2.2, and what inet_pton requires).
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parse a numeric IPv4 or IPv6 address (no zone, no brackets, no port); null if it is not one. */
export function parseIpAddress(text: string): IpAddress | null {
  if (typeof text !== 'string') return null;
  if (text.includes(':')) {
    const bytes = parseIpv6(text);
    return bytes === null ? null : { family: 6, bytes };
  }
  const bytes = parseIpv4(text);
  return bytes === null ? null : { family: 4, bytes };
}

/** `::ffff:a.b.c.d` becomes a.b.c.d; everything else is returned unchanged. */
export function unmapIpv4(address: IpAddress): IpAddress {
  if (address.family !== 6) return address;
  const b = address.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return address;
  if (b[10] !== 0xff || b[11] !== 0xff) return address;
  return { family: 4, bytes: b.slice(12) };
}

/** True when every bit after the first `prefixLength` is zero (the entry names a network). */
function hostBitsZero(bytes: Uint8Array, prefixLength: number): boolean {
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/**
 * Parse one list entry, `address` or `address/prefix`, by OpenSSH's rules (see the module
 * comment). Null when the entry is invalid.
 */
export function parseCidr(entry: string): Cidr | null {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) return null;
  if (!CIDR_CHARS.test(entry)) return null;
  const slash = entry.indexOf('/');
  const addressText = slash < 0 ? entry : entry.slice(0, slash);
  const network = parseIpAddress(addressText);
  if (network === null) return null;
  const maxPrefix = network.family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (slash >= 0) {
    const prefixText = entry.slice(slash + 1);
    if (!/^[0-9]+$/.test(prefixText)) return null;
    prefixLength = Number(prefixText);
    if (prefixLength > maxPrefix) return null;
  }
  if (!hostBitsZero(network.bytes, prefixLength)) return null;
  return { network, prefixLength };
}

/** Split and parse a comma-separated list (or an array of entries); null if any entry is invalid. */
export function parseCidrList(list: string | readonly string[]): Cidr[] | null {
  let entries: readonly string[];
  if (typeof list === 'string') entries = list.split(',');
  else if (Array.isArray(list)) entries = list;
  else return null;
  if (entries.length === 0) return null;
  const out: Cidr[] = [];
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr === null) return null;
    out.push(cidr);
  }
  return out;
}

/** True when every entry of the list is valid (what sshd checks before it uses a source-address). */
export function isValidCidrList(list: string | readonly string[]): boolean {
  return parseCidrList(list) !== null;
}

/** True when `address` lies inside `cidr` (same family, first prefixLength bits equal). */
export function addressInCidr(address: IpAddress, cidr: Cidr): boolean {
  if (address.family !== cidr.network.family) return false;
  const full = cidr.prefixLength >> 3;
  for (let i = 0; i < full; i++) if (address.bytes[i] !== cidr.network.bytes[i]) return false;
  const rest = cidr.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address.bytes[full]! ^ cidr.network.bytes[full]!) & mask) === 0;
}

/**
 * Does the client `address` match any entry of `list` (a comma-separated string, as carried in
 * the source-address option, or an array of entries)? False for an unparsable address and for
 * an invalid list, never an exception.
 */
export function addressMatchesCidrList(address: string, list: string | readonly string[]): boolean {
  const parsed = parseIpAddress(address);
  if (parsed === null) return false;
  const cidrs = parseCidrList(list);
  if (cidrs === null) return false;
  const client = unmapIpv4(parsed);
  return cidrs.some((cidr) => addressInCidr(client, cidr));
}

/**
 * OpenSSH's wildcard patterns (ssh_config(5) PATTERNS): `*` matches any run of characters, `?`
 * exactly one, everything else itself, case-sensitively. Used for host certificate principals
 * and reusable for host name patterns. Greedy with one backtrack point, so linear-time in
 * practice and never exponential on hostile patterns.
 */
export function matchWildcardPattern(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
