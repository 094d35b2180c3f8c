/**
 * sshd_config(5) MaxStartups and PerSourceMaxStartups for servers built with core/api `listen`: a bound on connections that have not logged in
 * yet, so that clients which connect and never authenticate cannot take every descriptor (and with
 * them the logins and commands of real users). `begin:rate:full` refuses a new connection with
 * probability rate% once `begin` are unauthenticated, rising linearly to 100% at `full`; a single
 * number N refuses everything past N. OpenSSH's default is 10:30:100. The random draw comes from
 * the caller (the Runtime's randomness), so a seeded run decides the same way.
 */

export interface MaxStartups {
  readonly begin: number;
  /** Percent refused at `begin` unauthenticated connections. */
  readonly rate: number;
  readonly full: number;
}

export const DEFAULT_MAX_STARTUPS: MaxStartups = { begin: 10, rate: 30, full: 100 };

export class MaxStartupsError extends Error {}

/** `N` or `begin:rate:full`, as sshd accepts it. */
export function parseMaxStartups(text: string): MaxStartups {
  const m = /^(\d+)(?::(\d+):(\d+))?$/.exec(text.trim());
  if (!m) throw new MaxStartupsError(`${JSON.stringify(text)} is not N or begin:rate:full (e.g. 10:30:100)`);
  const begin = Number(m[1]);
  if (m[2] === undefined) {
    if (begin < 1) throw new MaxStartupsError(`${JSON.stringify(text)}: the limit must be at least 1`);
    return { begin, rate: 100, full: begin };
  }
  const rate = Number(m[2]);
  const full = Number(m[3]);
  if (begin < 1 || full < begin) throw new MaxStartupsError(`${JSON.stringify(text)}: need 1 <= begin <= full`);
  if (rate < 1 || rate > 100) throw new MaxStartupsError(`${JSON.stringify(text)}: the rate is a percentage from 1 to 100`);
  return { begin, rate, full };
}

/**
 * Whether a new connection is refused while `unauthenticated` others are waiting to log in.
 * `random` returns a number in [0, 1).
 */
export function refusesStartup(limit: MaxStartups, unauthenticated: number, random: () => number): boolean {
  if (unauthenticated >= limit.full) return true;
  if (unauthenticated < limit.begin) return false;
  const percent = limit.rate + ((100 - limit.rate) * (unauthenticated - limit.begin)) / (limit.full - limit.begin);
  return random() * 100 < percent;
}

export function formatMaxStartups(limit: MaxStartups): string {
  return limit.rate === 100 && limit.begin === limit.full ? String(limit.full) : `${limit.begin}:${limit.rate}:${limit.full}`;
}

/** A number in [0, 1) from a byte source (53 random bits, like Math.random's precision). */
export function unitInterval(random: (n: number) => Uint8Array): number {
  const b = random(7);
  let value = b[0]! & 0x1f;
  for (let i = 1; i < 7; i++) value = value * 256 + b[i]!;
  return value / 2 ** 53;
}
