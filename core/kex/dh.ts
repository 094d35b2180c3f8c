/**
 * Finite-field Diffie-Hellman over the RFC 3526 MODP groups: diffie-hellman-group14-sha256
 * (RFC 8268 section 3, group 14 = RFC 3526 section 3), diffie-hellman-group16-sha512 and
 * diffie-hellman-group18-sha512 (RFC 8268 section 3, RFC 3526 sections 5 and 7), following the
 * exchange of RFC 4253 section 8. Also the group choice and validation for
 * diffie-hellman-group-exchange (RFC 4419 section 3); the engine owns the GEX messages and hash.
 *
 * e, f and K are mpints; we exchange their unsigned big-endian magnitudes and the engine writes
 * the framing. A peer value outside 1 < v < p-1 is fatal (RFC 4253 section 8): 0, 1 and p-1 would
 * force K into {0, 1, p-1}, and anything >= p is not a group element.
 *
 * Private exponent size. RFC 3526 section 1 asks for an exponent with twice the entropy of the
 * group's strength, and section 8 tabulates exponent sizes per group (estimate 1: 220 bits for
 * 2048, 260 for 3072, 300 for 4096, 340 for 6144, 380 for 8192). We also never use fewer bits
 * than the exchange hash's output, so the exponent is not the weak link of a method whose hash
 * offers hashBits/2 bits of collision resistance — the same idea as OpenSSH sizing the exponent
 * from what the negotiated algorithms need. That gives 256 bits for group14-sha256 and 512 bits
 * for group16-sha512 and group18-sha512. The exponent is drawn uniformly below 2^bits, with
 * bits <= |p| - 2, so 1 < x < q = (p-1)/2 as RFC 4253 section 8 requires.
 */
import type { HashName } from '../crypto/provider.ts';
import { kexError, SshUsageError } from '../errors.ts';
import { bytesToBigint } from '../wire/reader.ts';
import { bigintToBytes } from '../wire/writer.ts';
import { clientState, wipe } from './common.ts';
import type { DhGroup, KexContext, KexMethod, KexServerResult } from './types.ts';

// RFC 3526 section 3: the 2048-bit MODP group.
const MODP_2048_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
  '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
  '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
  '3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF';

// RFC 3526 section 4: the 3072-bit MODP group.
const MODP_3072_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
  '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
  '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
  '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33' +
  'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864' +
  'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2' +
  '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';

// RFC 3526 section 5: the 4096-bit MODP group.
const MODP_4096_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
  '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
  '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
  '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33' +
  'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864' +
  'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2' +
  '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7' +
  '88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8' +
  'DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2' +
  '233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9' +
  '93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF';

// RFC 3526 section 6: the 6144-bit MODP group.
const MODP_6144_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
  '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
  '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
  '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33' +
  'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864' +
  'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2' +
  '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7' +
  '88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8' +
  'DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2' +
  '233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9' +
  '93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026' +
  'C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE' +
  'B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B' +
  'DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC' +
  'F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E' +
  '59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA' +
  'CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76' +
  'F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468' +
  '043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DCC4024FFFFFFFFFFFFFFFF';

// RFC 3526 section 7: the 8192-bit MODP group.
const MODP_8192_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
  '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
  '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
  '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33' +
  'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864' +
  'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2' +
  '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7' +
  '88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8' +
  'DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2' +
  '233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9' +
  '93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026' +
  'C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE' +
  'B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B' +
  'DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC' +
  'F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E' +
  '59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA' +
  'CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76' +
  'F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468' +
  '043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4' +
  '38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED' +
  '2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D' +
  'E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B' +
  '4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6' +
  '6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D' +
  'F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92' +
  '4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA' +
  '9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF';

export function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

function modpGroup(hex: string): DhGroup {
  const p = BigInt('0x' + hex);
  return Object.freeze({ p, g: 2n, bits: bitLength(p) });
}

/** RFC 3526 group 14 (2048-bit), generator 2. */
export const modpGroup14: DhGroup = modpGroup(MODP_2048_HEX);
/** RFC 3526 group 15 (3072-bit), generator 2. */
export const modpGroup15: DhGroup = modpGroup(MODP_3072_HEX);
/** RFC 3526 group 16 (4096-bit), generator 2. */
export const modpGroup16: DhGroup = modpGroup(MODP_4096_HEX);
/** RFC 3526 group 17 (6144-bit), generator 2. */
export const modpGroup17: DhGroup = modpGroup(MODP_6144_HEX);
/** RFC 3526 group 18 (8192-bit), generator 2. */
export const modpGroup18: DhGroup = modpGroup(MODP_8192_HEX);

/** The groups a server offers for RFC 4419 group exchange, smallest first. */
export const gexGroups: readonly DhGroup[] = Object.freeze([modpGroup14, modpGroup15, modpGroup16, modpGroup17, modpGroup18]);

/** RFC 3526 section 8, "Strength Estimate 1", by modulus size: the conservative column. */
const strengthTable: readonly (readonly [bits: number, strength: number])[] = [
  [2048, 110],
  [3072, 130],
  [4096, 150],
  [6144, 170],
  [8192, 190],
];

const hashBits: Record<HashName, number> = { sha1: 160, sha256: 256, sha384: 384, sha512: 512 };

/** Estimated strength in bits of a MODP group of `pBits`: the row for the largest tabulated size not above it. */
function groupStrength(pBits: number): number {
  let strength = strengthTable[0]![1];
  for (const [bits, s] of strengthTable) if (pBits >= bits) strength = s;
  return strength;
}

/** Size in bits of the private exponent we draw for a group of `pBits` under `hash` (see the module header). */
export function dhExponentBits(pBits: number, hash: HashName): number {
  const wanted = Math.max(2 * groupStrength(pBits), hashBits[hash]);
  const rounded = Math.ceil(wanted / 8) * 8;
  // Stay below q = (p-1)/2 whatever the group; only matters for toy groups in tests.
  return Math.min(rounded, pBits - 2);
}

function randomExponent(ctx: KexContext, bits: number): { x: bigint; bytes: Uint8Array } {
  const nBytes = Math.ceil(bits / 8);
  const topMask = 0xff >> (nBytes * 8 - bits);
  // x < 2 has probability 2^(1-bits); repeated hits mean the random source is broken.
  for (let attempt = 0; attempt < 64; attempt++) {
    const bytes = ctx.random(nBytes);
    bytes[0] = bytes[0]! & topMask;
    const x = bytesToBigint(bytes);
    if (x >= 2n) return { x, bytes };
    wipe(bytes);
  }
  throw new SshUsageError('random source keeps producing degenerate DH exponents');
}

/** Throw KEY_EXCHANGE_FAILED unless 1 < v < p-1 (RFC 4253 section 8). */
export function validateDhValue(group: DhGroup, value: bigint, who: string): void {
  if (value <= 1n || value >= group.p - 1n) {
    throw kexError(`${who} DH value is outside the range 1 < v < p-1`);
  }
}

/** A key-exchange method doing RFC 4253 section 8 DH in `group` with exchange hash `hash`. */
export function dhMethodForGroup(group: DhGroup, hash: HashName, name: string): KexMethod {
  const { p, g } = group;
  const pBits = bitLength(p);
  const pBytes = Math.ceil(pBits / 8);
  const exponentBits = dhExponentBits(pBits, hash);
  const agree = (ctx: KexContext, x: bigint, peer: Uint8Array, who: string): Uint8Array => {
    const v = bytesToBigint(peer);
    validateDhValue(group, v, who);
    return bigintToBytes(ctx.crypto.modPow(v, x, p), pBytes);
  };
  return {
    name,
    hash,
    valueEncoding: 'mpint',
    secretEncoding: 'mpint',
    clientStart(ctx) {
      const { x, bytes } = randomExponent(ctx, exponentBits);
      const e = ctx.crypto.modPow(g, x, p);
      return clientState(bigintToBytes(e), (serverValue) => agree(ctx, x, serverValue, 'server'), [bytes]);
    },
    serverRespond(ctx, clientValue): KexServerResult {
      // Validate before spending randomness so a bad INIT costs us nothing.
      validateDhValue(group, bytesToBigint(clientValue), 'client');
      const { x, bytes } = randomExponent(ctx, exponentBits);
      try {
        const f = ctx.crypto.modPow(g, x, p);
        return { serverValue: bigintToBytes(f), secret: agree(ctx, x, clientValue, 'client') };
      } finally {
        wipe(bytes);
      }
    },
  };
}

export const dhGroup14Sha256: KexMethod = dhMethodForGroup(modpGroup14, 'sha256', 'diffie-hellman-group14-sha256');
export const dhGroup16Sha512: KexMethod = dhMethodForGroup(modpGroup16, 'sha512', 'diffie-hellman-group16-sha512');
export const dhGroup18Sha512: KexMethod = dhMethodForGroup(modpGroup18, 'sha512', 'diffie-hellman-group18-sha512');

/**
 * Server side of RFC 4419 section 3: pick a group for the client's SSH_MSG_KEX_DH_GEX_REQUEST
 * (min, n = preferred, max, all in bits). The smallest of our groups that is at least `preferred`
 * and within [min, max]; failing that the largest within [min, max]; null when none fits (or the
 * request is inconsistent), which the engine turns into a disconnect.
 */
export function chooseGexGroup(min: number, preferred: number, max: number): DhGroup | null {
  if (!(min <= max)) return null;
  const inRange = gexGroups.filter((grp) => grp.bits >= min && grp.bits <= max);
  return inRange.find((grp) => grp.bits >= preferred) ?? inRange[inRange.length - 1] ?? null;
}

/**
 * Client side of RFC 4419 section 3: check the group the server sent in SSH_MSG_KEX_DH_GEX_GROUP
 * before using it. Its size must be within what we asked for, p must be odd (an even modulus is
 * not a prime field) and g must be in [2, p-2] (0, 1 and p-1 generate trivial subgroups).
 * Primality is not tested: it is too slow for 8192-bit moduli on every connection, and the server
 * signs the exchange hash that covers p and g, so a bad group can only come from a host the client
 * has already chosen to trust.
 */
export function validateGexGroup(group: DhGroup, min: number, max: number): void {
  const bits = bitLength(group.p);
  if (bits < min || bits > max) throw kexError(`server's DH group has ${bits} bits, outside the requested ${min}..${max}`);
  if ((group.p & 1n) === 0n) throw kexError("server's DH group modulus is even");
  if (group.g < 2n || group.g > group.p - 2n) throw kexError("server's DH group generator is outside [2, p-2]");
}
