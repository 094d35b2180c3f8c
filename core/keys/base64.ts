/**
 * Base64 (RFC 4648 section 4, standard alphabet) without Node's buffer class, for the text formats of keys:
 * `.pub` lines (RFC 4716 / OpenSSH authorized_keys), openssh-key-v1 armour (OpenSSH PROTOCOL.key)
 * and SHA256 fingerprints (which OpenSSH prints without padding).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(bytes: Uint8Array, padding = true): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  const left = bytes.length - i;
  if (left === 1) {
    const v = bytes[i]! << 16;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + (padding ? '==' : '');
  } else if (left === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + (padding ? '=' : '');
  }
  return out;
}

/**
 * Strict decoding: no whitespace (callers join armoured lines first), `=` only as final padding,
 * and the length must be a multiple of 4 unless `requirePadding` is false. Throws RangeError.
 */
export function decodeBase64(text: string, requirePadding = true): Uint8Array {
  let end = text.length;
  let pad = 0;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && pad < 2) {
    end--;
    pad++;
  }
  if (requirePadding && text.length % 4 !== 0) throw new RangeError('base64 length is not a multiple of 4');
  if (!requirePadding && pad > 0 && text.length % 4 !== 0) throw new RangeError('base64 padding is misplaced');
  if (end % 4 === 1) throw new RangeError('base64 has an impossible length');
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new RangeError(`invalid base64 character at offset ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
