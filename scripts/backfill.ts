import { InvalidArgumentError, type Command } from 'commander';
import { analyseBackfill, DEFAULT_WINDOW, formatSummary, formatSweep, prepareRange, renderSweepChart, sweepWindows } from '../oracle/backfill/index.js';
import { fetchBlocks } from '../oracle/chain/graphql.js';
import { readBlocksFile, writeBlocksFile, type SlotField } from '../oracle/chain/readers/index.js';
import type { BlockRecord } from '../oracle/chain/types.js';
import { UsageError } from '../oracle/errors.js';
import { writeOutput } from '../oracle/json-file.js';
import { command, oneOf, output, progress, wholeNumber } from './cli.js';

interface BackfillOptions {
  input?: string;
  graphql?: string;
  epoch?: number;
  save?: string;
  slotField?: SlotField;
  from?: number;
  to?: number;
  window: number;
  excludeWinners?: boolean;
  sweep?: { first: number; last: number };
  chart?: string;
  json?: boolean;
}

function sweepRange(value: string): { first: number; last: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected A:B (two window sizes), got "${value}"`);
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (first < 1 || first > last) throw new InvalidArgumentError(`need 1 ≤ A ≤ B, got ${value}`);
  return { first, last };
}

/** `mina-pool backfill`: how many empty slots a waitlist of recent VRF losers would fill. */
export function backfillCommand(): Command {
  return command('backfill', 'backfill waitlist analysis: how many empty slots a waitlist of recent VRF losers would fill')
    .option('--input <file>', 'blocks as CSV (slot, creator, canonical|chain_status [, vrf_output, state_hash]) or JSON (array, or an explorer GraphQL answer)')
    .option('--graphql <url>', 'fetch the blocks from a MinaExplorer / mina-indexer style endpoint (needs --from and --to)')
    .option('--epoch <n>', 'with --graphql: --from/--to are slots in this epoch (default: slots since genesis)', wholeNumber())
    .option('--save <file>', 'with --graphql: also write the fetched blocks (.json or .csv) to rerun offline')
    .option('--slot-field <field>', 'explorer JSON: auto (slot in epoch when present), slot or slotSinceGenesis', oneOf<SlotField>('auto', 'slot', 'slotSinceGenesis'))
    .option('--from <slot>', 'first slot (inclusive; default: the smallest present)', wholeNumber())
    .option('--to <slot>', 'last slot (inclusive; default: the largest present)', wholeNumber())
    .option('--window <n>', 'slots a producer stays in the waitlist', wholeNumber(1), DEFAULT_WINDOW)
    .option('--exclude-winners', "the stricter rule: a slot's canonical creator does not join")
    .option('--sweep <A:B>', 'empty slots for every window from A to B, and the suggested window', sweepRange)
    .option('--chart <file.svg>', 'with --sweep: a chart of empty % against window')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 done, 1 fetch failed, 2 bad input or options.')
    .action(async (o: BackfillOptions) => {
      if ((o.input === undefined) === (o.graphql === undefined)) throw new UsageError('give exactly one input: --input FILE or --graphql URL (see --help)');
      if (o.from !== undefined && o.to !== undefined && o.from > o.to) throw new UsageError(`empty range: --from (${o.from}) is greater than --to (${o.to})`, { field: 'from' });
      if (o.chart !== undefined && o.sweep === undefined) throw new UsageError('--chart needs --sweep A:B');
      if (o.save !== undefined && o.graphql === undefined) throw new UsageError('--save applies to --graphql');
      if (o.epoch !== undefined && o.graphql === undefined) throw new UsageError('--epoch applies to --graphql');
      if (o.graphql !== undefined && (o.from === undefined || o.to === undefined)) throw new UsageError('--graphql needs --from and --to');
      let blocks: BlockRecord[];
      if (o.graphql !== undefined) {
        blocks = await fetchBlocks({
          url: o.graphql,
          from: o.from!,
          to: o.to!,
          epoch: o.epoch,
          onPage: (p) => progress(`fetched slots ${p.from}–${p.to}: ${p.blocks} blocks (${p.total} in all)`),
          onRetry: (r) => progress(`retrying slots ${r.from}–${r.to} after attempt ${r.attempt}: ${r.error}`),
        });
        if (o.save !== undefined) {
          await writeBlocksFile(o.save, blocks);
          progress(`saved ${blocks.length} blocks to ${o.save}`);
        }
      } else {
        blocks = await readBlocksFile(o.input!, { slotField: o.slotField });
      }
      const range = { from: o.from, to: o.to, excludeWinners: o.excludeWinners ?? false };
      if (o.sweep !== undefined) {
        const result = sweepWindows(prepareRange(blocks, range), { ...range, ...o.sweep });
        if (o.chart !== undefined) {
          await writeOutput(o.chart, renderSweepChart(result), 'chart');
          progress(`chart written to ${o.chart}`);
        }
        output(o.json, formatSweep(result), result);
        return;
      }
      const summary = analyseBackfill(blocks, { ...range, window: o.window });
      output(o.json, formatSummary(summary), summary);
    });
}
