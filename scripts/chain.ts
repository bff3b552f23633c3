import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isLocalUrl } from '../oracle/config.js';
import { UsageError } from '../oracle/errors.js';
import { LocalLedger } from '../oracle/localnet/ledger.js';
import { LocalNetworkServer } from '../oracle/localnet/server.js';
import { loadAlias } from '../oracle/pool/session.js';
import { command, progress, wholeNumber } from './cli.js';

interface ChainOptions {
  alias: string;
  port?: number;
  host?: string;
  state: string;
  proofs?: boolean;
  reset?: boolean;
  slot?: number;
  slotTime?: number;
}

/**
 * Starts the local network for an alias: the ledger from its state directory (replayed),
 * served at the alias's URL. Returns it running; `stop` closes it.
 */
async function startLocalChain(o: ChainOptions): Promise<{ server: LocalNetworkServer; ledger: LocalLedger; stop: () => Promise<void> }> {
  const { alias } = await loadAlias(process.cwd(), o.alias);
  const url = new URL(alias.url);
  if (!isLocalUrl(alias.url) && o.host === undefined) {
    throw new UsageError(`alias '${o.alias}' points at ${alias.url}, not at this machine: the local chain serves an alias whose url is on 127.0.0.1 (or give --host)`);
  }
  const dir = resolve(process.cwd(), o.state);
  if (o.reset) {
    await rm(dir, { recursive: true, force: true });
    progress(`removed the local chain's state in ${o.state}`);
  }
  const t0 = Date.now();
  const ledger = await LocalLedger.open(dir, { proofsEnabled: o.proofs, genesisSlot: o.slot, onReplay: (done, total) => progress(`replaying the journal: ${done} of ${total}`) });
  if (o.proofs && !ledger.meta.proofsEnabled) throw new UsageError(`the local chain in ${o.state} was created with mock proofs; --reset to start one that checks proofs`);
  const server = await LocalNetworkServer.start({ ledger, port: o.port ?? Number(url.port || 80), host: o.host ?? url.hostname.replace(/^\[|\]$/g, '') });
  progress(`local chain at ${server.url}: slot ${ledger.slot}, ${ledger.height} blocks (${((Date.now() - t0) / 1000).toFixed(1)} s), ${ledger.meta.proofsEnabled ? 'checks proofs' : 'mock proofs'}, state in ${o.state}`);
  let ticker: NodeJS.Timeout | undefined;
  if (o.slotTime !== undefined) ticker = setInterval(() => void ledger.advance(1), o.slotTime * 1000);
  return {
    server,
    ledger,
    stop: async () => {
      if (ticker) clearInterval(ticker);
      await server.close();
    },
  };
}

/** `mina-pool chain`: the local network (`npm run chain`), until Ctrl-C. */
export function chainCommand(): Command {
  return command('chain', "run the local network: a Mina chain in this process, served over the daemon's GraphQL")
    .option('--alias <name>', 'serve at this alias\'s url', 'local')
    .option('--port <n>', 'port (default: the alias url\'s)', wholeNumber(0, 65535))
    .option('--host <address>', 'address to listen on (default: the alias url\'s)')
    .option('--state <dir>', 'where the chain keeps its journal', 'state/chain')
    .option('--proofs', 'a new chain that checks proofs (every command then proves for real)')
    .option('--reset', 'start afresh (forget the chain in --state)')
    .option('--slot <n>', 'a new chain\'s first global slot', wholeNumber(0, 4_000_000_000), 100_000)
    .option('--slot-time <seconds>', 'let a slot pass every N seconds (default: only on request, npm run pool -- wait N)', wholeNumber(1))
    .addHelpText('after', '\nThe chain keeps its state across restarts (a journal in --state, replayed at start).\nSlots pass with npm run pool -- wait N; the faucet pays with npm run pool -- fund KEY MINA.')
    .action(async (o: ChainOptions) => {
      const chain = await startLocalChain(o);
      progress('Ctrl-C to stop');
      await new Promise<void>((resolve) => {
        const stop = () => void chain.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
