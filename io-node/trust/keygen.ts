/**
 * `hermit keygen`: create a user or host key pair the way ssh-keygen(1) does, with its option
 * spelling (`-t`, `-b`, `-N`, `-C`, `-f`, `-a`, `-Z`, `-q`), writing FILE (mode 0600,
 * openssh-key-v1 per OpenSSH PROTOCOL.key, encrypted with bcrypt_pbkdf and aes256-ctr when a
 * passphrase is given) and FILE.pub (the one-line form of sshd(8) AUTHORIZED_KEYS FILE FORMAT),
 * then printing the fingerprint line `ssh-keygen -l` would print.
 *
 * Differences from ssh-keygen, on purpose: it never prompts (no -N means no passphrase) and never
 * overwrites an existing key (ssh-keygen asks; a script cannot answer, and a lost key is not
 * recoverable). Exit status: 0 success, 1 failure, 2 invalid command line.
 */
import { mkdir, stat } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DEFAULT_KDF_ROUNDS,
  MAX_KDF_ROUNDS,
  OPENSSH_KEY_CIPHERS,
  formatFingerprintLine,
  isOpenSshKeyCipher,
  type OpenSshKeyCipher,
} from '../../core/keys/index.ts';
import { DEFAULT_RSA_BITS, MAX_GENERATED_RSA_BITS, MIN_GENERATED_RSA_BITS, generateHostKey, writePrivateKeyFile, type HostKeyType } from './keys.ts';

export type KeygenIo = { readonly stdout: (s: string) => void; readonly stderr: (s: string) => void };

export const KEYGEN_HELP = `Usage: hermit keygen [-t ed25519|ecdsa|rsa] [-b BITS] [-N PASSPHRASE] [-C COMMENT] [-f FILE]
                     [-a ROUNDS] [-Z CIPHER] [-q]

Creates a key pair: FILE (the private key, mode 0600, OpenSSH format) and FILE.pub.

Options:
  -t TYPE        ed25519 (default), ecdsa or rsa
  -b BITS        ecdsa: 256 (default), 384 or 521; rsa: ${MIN_GENERATED_RSA_BITS} to ${MAX_GENERATED_RSA_BITS}, default ${DEFAULT_RSA_BITS};
                 ed25519 keys are always 256 bits
  -N PASSPHRASE  protect the private key with this passphrase; without -N (or with -N '') the
                 key is not protected (hermit keygen never prompts)
  -C COMMENT     comment stored with the key; default user@host
  -f FILE        where to write; default ~/.ssh/id_ed25519, id_ecdsa or id_rsa.
                 An existing FILE or FILE.pub is never overwritten
  -a ROUNDS      bcrypt rounds for the passphrase, 1 to ${MAX_KDF_ROUNDS}; default ${DEFAULT_KDF_ROUNDS}
  -Z CIPHER      cipher for the passphrase; default aes256-ctr
  -q             print nothing on success
  -h, --help     show this help

Exit status: 0 success, 1 failure, 2 invalid command line.
`;

class Usage extends Error {}

type Options = {
  type: 'ed25519' | 'ecdsa' | 'rsa';
  bits: number | undefined;
  passphrase: string;
  comment: string | undefined;
  file: string | undefined;
  rounds: number;
  cipher: OpenSshKeyCipher;
  quiet: boolean;
  help: boolean;
};

const WITH_VALUE = new Set(['t', 'b', 'N', 'C', 'f', 'a', 'Z']);
const FLAGS = new Set(['q', 'h']);

/** getopt(3)-style: `-t rsa`, `-trsa` and bundled flags (`-qt rsa`) all work; the last repeat wins. */
function parseArgs(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new Usage(`unexpected argument ${JSON.stringify(argv[i + 1])}; hermit keygen takes options only (the file goes after -f)`);
      break;
    }
    if (arg === '--help') {
      flags.add('h');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new Usage(`unexpected argument ${JSON.stringify(arg)}; hermit keygen takes options only (the file goes after -f)`);
    }
    if (arg.startsWith('--')) throw new Usage(`unknown option ${arg}`);
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (FLAGS.has(letter)) {
        flags.add(letter);
        continue;
      }
      if (!WITH_VALUE.has(letter)) throw new Usage(`unknown option -${letter}`);
      const inline = arg.slice(j + 1);
      if (inline !== '') {
        values.set(letter, inline);
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new Usage(`option -${letter} needs a value`);
        values.set(letter, next);
        i++;
      }
      break;
    }
  }

  const typeArg = (values.get('t') ?? 'ed25519').toLowerCase();
  if (typeArg !== 'ed25519' && typeArg !== 'ecdsa' && typeArg !== 'rsa') {
    const why = typeArg === 'dsa' ? 'DSA keys are not supported (OpenSSH has disabled them)' : typeArg.endsWith('-sk') ? 'security-key types are not supported' : `unknown key type ${JSON.stringify(typeArg)}`;
    throw new Usage(`${why}; use -t ed25519, -t ecdsa or -t rsa`);
  }
  const type = typeArg;

  let bits: number | undefined;
  const bitsArg = values.get('b');
  if (bitsArg !== undefined) {
    if (!/^\d{1,6}$/.test(bitsArg)) throw new Usage(`-b wants a number of bits, not ${JSON.stringify(bitsArg)}`);
    bits = Number(bitsArg);
    if (type === 'ed25519' && bits !== 256) throw new Usage('ed25519 keys are always 256 bits; leave out -b');
    if (type === 'ecdsa' && bits !== 256 && bits !== 384 && bits !== 521) throw new Usage(`ECDSA keys are 256, 384 or 521 bits, not ${bits}; use -b 256, -b 384 or -b 521`);
    if (type === 'rsa' && (bits < MIN_GENERATED_RSA_BITS || bits > MAX_GENERATED_RSA_BITS)) {
      throw new Usage(`RSA keys must be ${MIN_GENERATED_RSA_BITS} to ${MAX_GENERATED_RSA_BITS} bits, not ${bits}; -b 3072 (the default) is a good choice`);
    }
  }

  let rounds = DEFAULT_KDF_ROUNDS;
  const roundsArg = values.get('a');
  if (roundsArg !== undefined) {
    rounds = /^\d{1,6}$/.test(roundsArg) ? Number(roundsArg) : NaN;
    if (!(rounds >= 1 && rounds <= MAX_KDF_ROUNDS)) throw new Usage(`-a wants a number of bcrypt rounds from 1 to ${MAX_KDF_ROUNDS}, not ${JSON.stringify(roundsArg)}`);
  }

  const cipherArg = values.get('Z') ?? 'aes256-ctr';
  if (!isOpenSshKeyCipher(cipherArg)) throw new Usage(`unknown cipher ${JSON.stringify(cipherArg)} for -Z; use one of ${Object.keys(OPENSSH_KEY_CIPHERS).join(', ')}`);

  const comment = values.get('C');
  if (comment !== undefined && /[\r\n]/.test(comment)) throw new Usage('the -C comment cannot contain a line break');
  const file = values.get('f');
  if (file === '') throw new Usage('-f needs a file name');

  return {
    type,
    bits,
    passphrase: values.get('N') ?? '',
    comment,
    file,
    rounds,
    cipher: cipherArg,
    quiet: flags.has('q'),
    help: flags.has('h'),
  };
}

function defaultComment(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'user';
  }
  return `${user}@${hostname()}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw new Error(`cannot check ${path}: ${(err as Error).message}`);
  }
}

function hostKeyType(options: Options): HostKeyType {
  if (options.type === 'ed25519') return 'ed25519';
  if (options.type === 'rsa') return 'rsa';
  return options.bits === 384 ? 'ecdsa-384' : options.bits === 521 ? 'ecdsa-521' : 'ecdsa-256';
}

export async function runKeygen(argv: string[], io: KeygenIo): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    io.stderr(`hermit keygen: ${err.message}\nTry 'hermit keygen --help' for the options.\n`);
    return 2;
  }
  if (options.help) {
    io.stdout(KEYGEN_HELP);
    return 0;
  }

  try {
    const usingDefault = options.file === undefined;
    const file = options.file ?? join(homedir(), '.ssh', `id_${options.type}`);
    const dir = dirname(file);
    if (!(await exists(dir))) {
      if (!usingDefault) throw new Error(`cannot write ${file}: the directory ${dir} does not exist; create it first (mkdir -p ${dir}) or choose another path with -f`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (!options.quiet) io.stdout(`Created directory '${dir}'.\n`);
    }
    for (const path of [file, `${file}.pub`]) {
      if (await exists(path)) {
        throw new Error(
          `${path} already exists, and hermit keygen never overwrites a key (that would lose it for good). ` +
            `Delete the old pair first (rm ${file} ${file}.pub) or choose another name with -f`,
        );
      }
    }
    if (!options.quiet) io.stdout(`Generating public/private ${options.type} key pair.\n`);
    const key = generateHostKey(hostKeyType(options), options.type === 'rsa' ? options.bits : undefined, options.comment ?? defaultComment());
    await writePrivateKeyFile(file, key, { passphrase: options.passphrase, rounds: options.rounds, cipher: options.cipher });
    if (!options.quiet) {
      io.stdout(
        `Your identification has been saved in ${file}\n` +
          `Your public key has been saved in ${file}.pub\n` +
          `The key fingerprint is:\n${formatFingerprintLine(key.publicKey, key.comment)}\n`,
      );
    }
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`hermit keygen: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}
