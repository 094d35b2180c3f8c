/**
 * Encoded terminal modes of the `pty-req` channel request, RFC 4254 section 8 (opcode names and
 * numbers from that section, IUTF8 from RFC 8160): a sequence of (opcode byte, uint32 argument)
 * pairs ended by TTY_OP_END (0). Opcodes 160-255 are undefined and stop parsing.
 */
import { protocolError } from '../errors.ts';

export const TERMINAL_MODE_OPCODES = {
  VINTR: 1, VQUIT: 2, VERASE: 3, VKILL: 4, VEOF: 5, VEOL: 6, VEOL2: 7, VSTART: 8, VSTOP: 9, VSUSP: 10,
  VDSUSP: 11, VREPRINT: 12, VWERASE: 13, VLNEXT: 14, VFLUSH: 15, VSWTCH: 16, VSTATUS: 17, VDISCARD: 18,
  IGNPAR: 30, PARMRK: 31, INPCK: 32, ISTRIP: 33, INLCR: 34, IGNCR: 35, ICRNL: 36, IUCLC: 37, IXON: 38,
  IXANY: 39, IXOFF: 40, IMAXBEL: 41, IUTF8: 42,
  ISIG: 50, ICANON: 51, XCASE: 52, ECHO: 53, ECHOE: 54, ECHOK: 55, ECHONL: 56, NOFLSH: 57, TOSTOP: 58,
  IEXTEN: 59, ECHOCTL: 60, ECHOKE: 61, PENDIN: 62,
  OPOST: 70, OLCUC: 71, ONLCR: 72, OCRNL: 73, ONOCR: 74, ONLRET: 75,
  CS7: 90, CS8: 91, PARENB: 92, PARODD: 93,
  TTY_OP_ISPEED: 128, TTY_OP_OSPEED: 129,
} as const;

export type TerminalModeName = keyof typeof TERMINAL_MODE_OPCODES;
/** Mode name → value; unknown defined opcodes are kept as `opcode-N`. */
export type TerminalModes = Partial<Record<TerminalModeName | `opcode-${number}`, number>>;

const names = new Map<number, string>(Object.entries(TERMINAL_MODE_OPCODES).map(([k, v]) => [v, k]));

export function encodeTerminalModes(modes: TerminalModes): Uint8Array {
  const entries = Object.entries(modes).filter(([, v]) => v !== undefined) as Array<[string, number]>;
  const out = new Uint8Array(entries.length * 5 + 1);
  let o = 0;
  for (const [name, value] of entries) {
    const opcode = name.startsWith('opcode-') ? Number(name.slice(7)) : TERMINAL_MODE_OPCODES[name as TerminalModeName];
    if (!Number.isInteger(opcode) || opcode < 1 || opcode > 159) throw new RangeError(`unknown terminal mode ${name}`);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`terminal mode ${name} needs a uint32 value`);
    out[o++] = opcode;
    out[o++] = value >>> 24;
    out[o++] = (value >>> 16) & 0xff;
    out[o++] = (value >>> 8) & 0xff;
    out[o++] = value & 0xff;
  }
  out[o++] = 0;
  return out.subarray(0, o);
}

export function decodeTerminalModes(bytes: Uint8Array): TerminalModes {
  const modes: Record<string, number> = {};
  let o = 0;
  while (o < bytes.length) {
    const opcode = bytes[o++]!;
    if (opcode === 0 || opcode >= 160) break;
    if (o + 4 > bytes.length) throw protocolError('pty-req terminal modes are truncated');
    const value = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
    o += 4;
    modes[names.get(opcode) ?? `opcode-${opcode}`] = value;
  }
  return modes as TerminalModes;
}
