/**
 * `npm run bench`: throughput and latency figures (a benchmark, not a test; see DESIGN.md section 4).
 * Each section is one entry in `sections`: import its bench function and add one line.
 */
import { renderTable } from './table.ts';
import { benchCiphers, cipherTable, PAYLOAD } from './ciphers.ts';
import { channelTable } from './channel.ts';
import { benchSlowReader, benchTransfer } from './transfer.ts';
import { commandTable, inMemoryTable, loopbackTable } from './handshake.ts';

interface Section {
  readonly title: string;
  readonly run: () => Promise<{ header: string[]; rows: (string | number)[][] }>;
}

const sections: Section[] = [
  { title: `Packet protection, seal + open of ${PAYLOAD / 1024} KiB payloads (MB = 10^6 bytes)`, run: async () => cipherTable(await benchCiphers()) },
  { title: 'Handshakes in memory (kex, NEWKEYS, service, none auth answered)', run: () => inMemoryTable() },
  { title: 'Channel throughput in memory (engine cost per byte, no sockets)', run: () => channelTable() },
  { title: 'Bulk transfer through cat on a private sshd, 256 MiB: hermit vs OpenSSH ssh vs ssh2', run: () => benchTransfer() },
  { title: 'Backpressure: a slow reader of a 1 GiB download from sshd (the client must not buffer it)', run: () => benchSlowReader() },
  { title: 'Handshakes over loopback TCP, client and server in one process: hermit vs ssh2', run: () => loopbackTable() },
  { title: 'Handshakes as whole commands against OpenSSH sshd: hermit probe vs ssh', run: () => commandTable() },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  console.log(`hermit-ssh bench — node ${process.version}, OpenSSL ${process.versions.openssl}, ${process.arch}\n`);
  for (const s of sections) {
    if (only.length > 0 && !only.some((o) => s.title.toLowerCase().includes(o.toLowerCase()))) continue;
    const t = await s.run();
    console.log(renderTable(s.title, t.header, t.rows));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
