import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { b62 } from '../oracle/config.js';
import { designationSchema } from '../oracle/emitter/designation.js';
import { UsageError } from '../oracle/errors.js';
import { readJsonFileIfExists } from '../oracle/json-file.js';
import { readKey } from '../oracle/keys.js';
import { fromPrecomputed, type ProducedBlock } from '../oracle/member/blocks.js';
import { followLines, stateHashFromDaemon, subscribeNewBlocks } from '../oracle/member/daemon.js';
import { Deliverer, readPoolInfo, type PoolInfo } from '../oracle/member/deliver.js';
import { watchWaitlist } from '../oracle/member/waitlist-notice.js';
import { command, progress, repeatable, urlOption } from './cli.js';

interface MemberOptions {
  daemon?: string;
  emitter: string[];
  key: string;
  producer?: string;
  blocksFile?: string;
  fromStart?: boolean;
  receipts: string;
  waitlist: boolean;
  designations?: string;
}

function publicKey(value: string): string {
  if (!b62.safeParse(value).success) throw new InvalidArgumentError(`expected a B62… public key, got "${value}"`);
  return value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The designation proof kept for a slot (`DIR/slot-<slot>.json`), checked to be a proof; none when there is no file. */
function designationFile(dir: string, slot: number): Promise<unknown> {
  return readJsonFileIfExists(join(dir, `slot-${slot}.json`), designationSchema, 'designation proof');
}

/** `mina-pool member`: beside a member's node, delivers each block the node produces to the pool's emitter. */
export function memberCommand(): Command {
  return command('member', "beside your node: deliver each block it produces to the pool's emitter, signed with your member key")
    .option('--emitter <url>', "the pool's emitter (http://host:8480); again for each replica of a replicated emitter: every one gets each block", repeatable(urlOption(['http', 'https', 'ws', 'wss'])))
    .requiredOption('--key <file>', 'your member key file ({ privateKey, publicKey })')
    .option('--daemon <url>', "your node's GraphQL (http://127.0.0.1:3085/graphql): its newBlock subscription, or the state hashes in file mode", urlOption(['http', 'https', 'ws', 'wss']))
    .option('--producer <B62>', "the block producer key of your node (default: the member key's)", publicKey)
    .option('--blocks-file <file>', "file mode: follow the node's --precomputed-blocks-file instead of the subscription")
    .option('--from-start', 'file mode: also deliver the blocks already in the file (default: only new ones)')
    .option('--receipts <dir>', "keep the emitter's receipts here (your evidence)", 'state/receipts')
    .option('--no-waitlist', "do not watch the emitter's backfill waitlist for your producer")
    .option('--designations <dir>', "a designated producer's proofs (npm run pool -- backfill prove --out DIR/slot-<S>.json): a block of slot S goes with DIR/slot-<S>.json, from a third into the slot")
    .addHelpText(
      'after',
      [
        '',
        'Subscription mode (default): the daemon must serve GraphQL (the --rest-port, 3085 by default).',
        'File mode: run the daemon with --precomputed-blocks-file FILE; --daemon still names each block\'s state hash.',
        'Each delivery is retried until the emitter gives a receipt or the slot\'s window closes.',
        'When the emitter keeps the live waitlist, a notice is printed each time your producer reaches its head.',
        'A stock daemon produces only for slots it won; a node that produces for a slot it was designated for',
        '(the consensus extension) has its block delivered with the proof kept in --designations.',
      ].join('\n'),
    )
    .action(async (o: MemberOptions) => {
      if (!o.emitter?.length) throw new UsageError("give the pool's emitter with --emitter URL (once per replica)", { field: 'emitter' });
      if (new Set(o.emitter).size !== o.emitter.length) throw new UsageError('an emitter is given twice', { field: 'emitter' });
      if (!o.daemon) throw new UsageError('give your node\'s GraphQL with --daemon (the subscription, or in file mode the state hashes)', { field: 'daemon' });
      const daemon = o.daemon;
      const key = await readKey(resolve(o.key));
      const member = key.toPublicKey().toBase58();
      const producer = o.producer ?? member;
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());

      // What the pool is, from the first emitter that answers (replicas all say the same).
      let info: PoolInfo | undefined;
      for (let wait = 1_000; !info && !abort.signal.aborted; wait = Math.min(wait * 2, 30_000)) {
        for (const url of o.emitter) {
          try {
            info = await readPoolInfo(url);
            break;
          } catch (e) {
            progress(`${e instanceof Error ? e.message : String(e)}`);
          }
        }
        if (!info) {
          progress(`no emitter answered; trying again in ${wait / 1000} s`);
          await sleep(wait);
        }
      }
      if (!info) return;
      const designations = o.designations === undefined ? undefined : resolve(o.designations);
      // One deliverer per emitter; with several, each keeps its receipts apart (each replica signs its own).
      const several = o.emitter.length > 1;
      const deliverers = o.emitter.map((url) => new Deliverer({ emitter: url, info: info!, key, receiptsDir: resolve(o.receipts, several ? new URL(url).host.replace(/[^\w.-]/g, '_') : '') }));
      progress(`member ${member} (producer ${producer}) → emitter ${o.emitter.join(', ')} (operator ${info.operator}, ${info.slotMs / 1000} s slots)`);

      const seen = new Set<string>();
      const deliver = async (block: ProducedBlock & { stateHash: string }) => {
        if (seen.has(block.stateHash)) return;
        seen.add(block.stateHash);
        const head = `slot ${block.slot} height ${block.height} block ${block.stateHash}`;
        // The designation proof kept for the slot, read once for every emitter.
        let designation: unknown;
        try {
          designation = designations === undefined ? undefined : await designationFile(designations, block.slot);
        } catch (e) {
          progress(`${head}: not delivered: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        // To every emitter at once; one receipt is enough (each replica that took it logs it).
        const outcomes = await Promise.all(
          deliverers.map((d) =>
            d.deliver(block, abort.signal, designation).catch((e: unknown) => ({ status: 'failed' as const, message: e instanceof Error ? e.message : String(e) })),
          ),
        );
        const parts = outcomes.map((r, i) => {
          const who = several ? `${o.emitter[i]}: ` : '';
          if (r.status === 'accepted') return `${who}receipt at ${new Date(r.receipt.receivedAt).toISOString()} (${r.ms} ms, ${r.attempts} attempt${r.attempts > 1 ? 's' : ''})`;
          if (r.status === 'refused') return `${who}refused by the emitter: ${r.code}: ${r.message}`;
          if (r.status === 'failed') return `${who}not delivered: ${r.message}`;
          return `${who}not delivered before the window closed (${r.attempts} attempts; last: ${r.lastError})`;
        });
        const receipts = outcomes.filter((r) => r.status === 'accepted').length;
        progress(several ? `${head}: ${receipts} of ${outcomes.length} emitters gave a receipt\n  ${parts.join('\n  ')}` : `${head}: ${parts[0]}`);
      };
      const ours = (b: ProducedBlock) => b.creator === producer;
      const notices = o.waitlist
        ? watchWaitlist({ emitter: o.emitter[0]!, producer, everyMs: Math.max(1_000, Math.floor(info.slotMs / 6)), signal: abort.signal, onNotice: (n) => progress(n.text), onStatus: progress })
        : Promise.resolve();

      try {
        if (o.blocksFile) {
          const file = resolve(o.blocksFile);
          progress(`following ${file}${o.fromStart ? ' from its start' : ''}`);
          await followLines(
            file,
            (line): void => {
              let block: ProducedBlock;
              try {
                block = fromPrecomputed(JSON.parse(line));
              } catch (e) {
                progress(`skipped a line of ${file}: ${e instanceof Error ? e.message : String(e)}`);
                return;
              }
              if (!ours(block)) return;
              void (async (): Promise<void> => {
                const closes = info.genesisMs + block.slot * info.slotMs + info.window.closeMs;
                // The daemon names the block once it has taken it (at once, for its own block).
                do {
                  const stateHash = await stateHashFromDaemon(daemon, block).catch((e: unknown) => {
                    progress(`cannot ask ${daemon} for the state hash: ${e instanceof Error ? e.message : String(e)}`);
                    return undefined;
                  });
                  if (stateHash) return void (await deliver({ ...block, stateHash }));
                  await sleep(500);
                } while (!abort.signal.aborted && Date.now() < closes);
                progress(`slot ${block.slot} height ${block.height}: the daemon never named the block's state hash before the window closed`);
              })();
            },
            { signal: abort.signal, ...(o.fromStart ? { fromStart: true } : {}), onStatus: progress },
          );
        } else {
          await subscribeNewBlocks({ url: daemon, publicKey: producer, signal: abort.signal, onStatus: progress, onBlock: (b) => (ours(b) ? void deliver(b as ProducedBlock & { stateHash: string }) : undefined) });
        }
      } finally {
        // Whatever ended the delivery (Ctrl-C, or a fatal error) ends the waitlist's watch too.
        abort.abort();
        await notices;
      }
    });
}
