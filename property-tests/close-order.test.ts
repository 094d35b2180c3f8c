/**
 * The close handshake of a server session against any interleaving (RFC 4254 5.3, 6.10): whatever
 * order the server's output end, EOF, exit report and close() and the client's EOF and CLOSE come
 * in, an exit report the server sends before giving up reaches the client before the channel
 * closes, nothing arrives after CLOSE, and the connection never fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../core/crypto/pure.ts';
import type { SshEvent } from '../core/events.ts';
import { generatePrivateKey } from '../core/keys/private-key.ts';
import { seededRandom } from '../core/random.ts';
import { Pair } from '../core/testing/pair.ts';

const hostKeys = [generatePrivateKey('ed25519', seededRandom('close-order host'), pureCrypto)];
type Step = 'serverWrite' | 'serverEof' | 'serverReport' | 'serverClose' | 'clientEof' | 'clientClose' | 'pump';

const channelEvents = (events: SshEvent[], ch: number) => events.filter((e) => 'channel' in e && e.channel === ch);

describe('close order of a server session', () => {
  it('the exit report, when sent before close(), always precedes the CLOSE; both sides end closed', () => {
    const step = fc.constantFrom<Step>('serverWrite', 'serverEof', 'serverReport', 'serverClose', 'clientEof', 'clientClose', 'pump');
    fc.assert(
      fc.property(fc.array(step, { maxLength: 14 }), fc.boolean(), fc.boolean(), (steps, wantReply, clientClosesOnEof) => {
        const pair = new Pair({ client: { crypto: pureCrypto, username: 'u' }, server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true } });
        pair.pump();
        const ch = pair.client.openSession(pair.now);
        pair.pump();
        pair.client.channelRequest(ch, { type: 'exec', command: 'work' }, wantReply, pair.now);
        pair.pump();
        const sch = (pair.serverEvents.find((e) => (e.type === 'decision' && e.decision.kind === 'channelOpen')) as { decision: { channel: number } }).decision.channel;
        const gone = (events: SshEvent[], id: number) => channelEvents(events, id).some((e) => e.type === 'channelClosed');
        // Events are collected at pump; the engine itself knows at once when a channel is gone.
        const serverHas = () => {
          try {
            return pair.server.channelInfo(sch) !== null;
          } catch {
            return false;
          }
        };
        let reported = false;
        let gaveUp = false;
        let clientClosed = false;
        let clientEofSent = false;
        let serverEofCalled = false;
        const clientSawServerEof = () => channelEvents(pair.clientEvents, ch).some((e) => e.type === 'channelEof');
        // Finish the script, then what every well-behaved server does last: report and close.
        for (const s of [...steps, 'serverReport', 'serverClose', 'pump'] as Step[]) {
          const serverGone = !serverHas();
          const clientGone = gone(pair.clientEvents, ch);
          switch (s) {
            case 'serverWrite':
              if (!serverGone && !serverEofCalled && !gaveUp && !reported) pair.server.write(sch, new Uint8Array([1, 2, 3]), pair.now);
              break;
            case 'serverEof':
              if (!serverGone && !gaveUp) (pair.server.eof(sch, pair.now), (serverEofCalled = true));
              break;
            case 'serverReport':
              if (!serverGone && !gaveUp && !reported) (pair.server.channelRequest(sch, { type: 'exit-status', status: 7 }, false, pair.now), (reported = true));
              break;
            case 'serverClose':
              if (!serverGone) {
                if (!reported) gaveUp = true;
                pair.server.close(sch, pair.now);
              }
              break;
            case 'clientEof':
              if (!clientGone && !clientClosed && !clientEofSent) (pair.client.eof(ch, pair.now), (clientEofSent = true));
              break;
            case 'clientClose':
              if (!clientGone && !clientClosed) (pair.client.close(ch, pair.now), (clientClosed = true));
              break;
            case 'pump':
              pair.pump();
              break;
          }
          // Until the server has reported or given up, its channel must not vanish under it.
          if (!reported && !gaveUp) expect(serverHas(), `after ${s}`).toBe(true);
          // A strict client: CLOSE as soon as it has the server's EOF and its own stdin is done.
          if (clientClosesOnEof && clientEofSent && !clientClosed && !gone(pair.clientEvents, ch) && clientSawServerEof()) (pair.client.close(ch, pair.now), (clientClosed = true));
        }
        pair.pump();
        expect(pair.clientEvents.some((e) => e.type === 'closed') || pair.serverEvents.some((e) => e.type === 'closed')).toBe(false);
        const seen = channelEvents(pair.clientEvents, ch).map((e) => e.type);
        expect(seen.at(-1)).toBe('channelClosed');
        expect(seen.filter((t) => t === 'channelClosed')).toHaveLength(1);
        expect(channelEvents(pair.serverEvents, sch).at(-1)?.type).toBe('channelClosed');
        const report = seen.indexOf('channelRequest');
        if (reported && !gaveUp) expect(report).toBeGreaterThanOrEqual(0);
        if (report >= 0) expect(report).toBeLessThan(seen.indexOf('channelClosed'));
      }),
      { numRuns: 400 },
    );
  });
});
