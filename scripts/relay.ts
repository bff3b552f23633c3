import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildRelay } from '../oracle/emitter/relay.js';
import { listenOn } from '../oracle/emitter/server.js';
import { command, progress, wholeNumber } from './cli.js';

/** `mina-pool relay`: the gateway's relay, where the emitter (or each of its replicas) hands each slot's winner. */
export function relayCommand(): Command {
  return command('relay', "run the gateway's relay: the emitter's winners (one block per slot) into the gateway's spool directory")
    .option('--spool <dir>', "the gateway's spool directory (slot-<slot>-<stateHash>.json)", 'state/gateway-spool')
    .option('--port <n>', 'HTTP port', wholeNumber(0, 65535), 8470)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addHelpText(
      'after',
      [
        '',
        'The emitter hands winners here with --relay http://<host>:<port>/v1/blocks. The same block again',
        '(another replica, a retry) is confirmed and kept once; another block for a slot already held is',
        'refused (409 SLOT_TAKEN). GET /v1/blocks lists what the spool holds.',
      ].join('\n'),
    )
    .action(async (o: { spool: string; port: number; host: string }) => {
      const spoolDir = resolve(o.spool);
      const app = buildRelay({ spoolDir, onBlock: (b) => progress(`slot ${b.slot}: ${b.blockHash} from ${b.member}${b.stored ? '' : ' (already held)'}`) });
      const url = await listenOn(app, o.port, o.host);
      progress(`relay: POST ${url}/v1/blocks → ${spoolDir}; Ctrl-C to stop`);
      await new Promise<void>((done) => {
        const stop = () => void app.close().then(() => done());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
