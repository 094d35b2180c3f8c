/**
 * OpenSSH patterns and pattern-lists (ssh_config(5) PATTERNS), used by known_hosts host fields
 * (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT) and by the authorized_keys `from=` option (sshd(8)
 * AUTHORIZED_KEYS FILE FORMAT), and the address matching of `from=`.
 *
 * - A pattern is literal text where `*` matches zero or more characters and `?` exactly one.
 * - A pattern-list is comma-separated; a pattern prefixed by `!` is negated. A negated match
 *   rejects the whole list whatever else matched, and a negated match alone never produces a
 *   positive result (ssh_config(5): `!host1,!host2` does not match `host3`).
 * - Host names are compared case-insensitively (ASCII only, as OpenSSH lowercases with the C
 *   locale); user-facing names are not case-folded beyond ASCII because DNS names are ASCII.
 *
 * `from=` follows sshd: each list element is first tried as an address or `address/masklen`
 * network, and otherwise as a wildcard pattern over the address text; the same list is then
 * matched as host-name patterns against the client's host name. A CIDR element whose host bits are
 * not zero (`10.1.2.3/8`) or whose mask is too long makes the whole list invalid, which sshd (and
 * we) treat as "deny". Address parsing and CIDR containment are core/keys/address-match.ts's
 * (canonical text only: dotted quads without leading zeros, IPv6 per RFC 4291 section 2.2), so
 * from= and certificate source-address agree.
 */
import { addressInCidr, matchWildcardPattern, parseCidr, parseIpAddress, unmapIpv4, type Cidr, type IpAddress } from './address-match.ts';

/** Result of matching one string against a pattern-list. */
export type PatternListMatch = 'positive' | 'negative' | 'none';

/** ASCII-only lowercasing, as OpenSSH's tolower() in the C locale. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Does `s` match the single pattern (`*` and `?` wildcards, everything else literal)? The matcher
 * is address-match.ts's (greedy with one backtrack point, never exponential on hostile patterns).
 */
export function matchPattern(s: string, pattern: string): boolean {
  return matchWildcardPattern(s, pattern);
}

/**
 * Match `s` against a comma-separated pattern-list. With `caseInsensitive`, both sides are
 * ASCII-lowercased (OpenSSH's match_hostname). A negated element that matches wins immediately.
 */
export function matchPatternList(s: string, list: string, options: { readonly caseInsensitive?: boolean } = {}): PatternListMatch {
  const subject = options.caseInsensitive ? asciiLower(s) : s;
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const body = negated ? raw.slice(1) : raw;
    const pattern = options.caseInsensitive ? asciiLower(body) : body;
    if (matchPattern(subject, pattern)) {
      if (negated) return 'negative';
      positive = true;
    }
  }
  return positive ? 'positive' : 'none';
}

/** Host-name pattern-list match: case-insensitive, negation wins. */
export function matchHostPatternList(host: string, list: string): PatternListMatch {
  return matchPatternList(host, list, { caseInsensitive: true });
}

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDR networks: parsing and containment come from address-match.ts (shared with
// certificate source-address checks); what is specific to from= is how an element that is not an
// address falls back to a wildcard pattern.

/** The client's address: zone dropped, IPv4-mapped IPv6 read as IPv4 (sshd normalises its peer address the same way). */
function clientAddress(text: string): IpAddress | null {
  const zone = text.indexOf('%');
  const parsed = parseIpAddress(zone >= 0 ? text.slice(0, zone) : text);
  return parsed === null ? null : unmapIpv4(parsed);
}

/** The canonical text of an address for wildcard matching: IPv4-mapped addresses become dotted quads. */
export function normaliseAddressText(text: string): string {
  const addr = clientAddress(text);
  return addr !== null && addr.family === 4 ? Array.from(addr.bytes).join('.') : text;
}

/**
 * Classify one from= element as sshd's addr_pton_cidr does: a network (`address` or
 * `address/masklen`), `null` when it is not an address at all (the caller then uses it as a
 * wildcard pattern), or `{ error }` for an address with an impossible mask or host bits set.
 */
export function parseFromNetwork(element: string): Cidr | { readonly error: string } | null {
  const slash = element.indexOf('/');
  const addressText = slash < 0 ? element : element.slice(0, slash);
  const address = parseIpAddress(addressText);
  if (address === null) return null;
  if (slash >= 0 && !/^[0-9]{1,9}$/.test(element.slice(slash + 1))) return null;
  const cidr = parseCidr(element);
  if (cidr !== null) return cidr;
  const max = address.family === 4 ? 32 : 128;
  return slash >= 0 && Number(element.slice(slash + 1)) > max
    ? { error: `"${element}": the mask length must be at most ${max}` }
    : { error: `"${element}": the address has bits set after the mask (did you mean the network address?)` };
}

export type AddressListMatch = PatternListMatch | { readonly invalid: string };

/**
 * Match a client address against a pattern-list whose elements are addresses, CIDR networks or
 * wildcard patterns over the address text (sshd's addr_match_list). An unparseable client address
 * matches nothing; a malformed network element or an empty element makes the list invalid.
 */
export function matchAddressList(address: string | undefined, list: string): AddressListMatch {
  const parsed = address === undefined ? null : clientAddress(address);
  const text = address === undefined ? undefined : normaliseAddressText(address);
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const body = negated ? raw.slice(1) : raw;
    if (body === '') return { invalid: `empty pattern in "${list}"` };
    const net = parseFromNetwork(body);
    let hit: boolean;
    if (net && 'error' in net) return { invalid: net.error };
    if (net) hit = parsed !== null && addressInCidr(parsed, net);
    else hit = text !== undefined && parsed !== null && matchPattern(text, body);
    if (hit) {
      if (negated) return 'negative';
      positive = true;
    }
  }
  return positive ? 'positive' : 'none';
}

/** Check a `from=` pattern-list for the errors sshd refuses; returns a message, or null when valid. */
export function validateFromPatternList(list: string): string | null {
  const r = matchAddressList(undefined, list);
  return typeof r === 'object' ? r.invalid : null;
}

/**
 * The `from=` decision (sshd's match_host_and_ip): true when the client's address or host name is
 * positively matched and neither is negatively matched. Without an address nothing matches (sshd
 * denies), and without a host name the address text stands in for it, as with sshd's default
 * `UseDNS no`. An invalid list never matches.
 */
export function matchFromPatternList(list: string, client: { readonly address?: string | undefined; readonly hostname?: string | undefined }): boolean {
  if (client.address === undefined) return false;
  const ip = matchAddressList(client.address, list);
  if (typeof ip === 'object' || ip === 'negative') return false;
  const host = matchHostPatternList(client.hostname ?? normaliseAddressText(client.address), list);
  if (host === 'negative') return false;
  return ip === 'positive' || host === 'positive';
}
