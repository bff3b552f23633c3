import { writeFile } from 'node:fs/promises';
import { analyseBackfill, DEFAULT_WINDOW, formatSummary, formatSweep, prepareRange, renderSweepChart, sweepWindows } from '../oracle/backfill/index.js';
import { fetchBlocks } from '../oracle/chain/graphql.js';
import { readBlocksFile, writeBlocksFile, type SlotField } from '../oracle/chain/readers/index.js';
import type { BlockRecord } from '../oracle/chain/types.js';
import { UsageError } from '../oracle/errors.js';
import { intOption, parseCommandLine, runCli } from './cli.js';

const HELP = `Backfill waitlist analysis: how many empty slots a waitlist of recent VRF losers would fill.

Usage:
  npm run -s backfill -- --input FILE [options]
  npm run -s backfill -- --graphql URL --from A --to B [--epoch E] [--save FILE] [options]

Input (one of):
  --input FILE          blocks as CSV (header: slot, creator, canonical|chain_status
                        [, vrf_output, state_hash]) or JSON (array of {slot, creator,
                        canonical, vrfOutput?, stateHash?}, or an explorer GraphQL answer)
  --graphql URL         fetch blocks from a MinaExplorer / mina-indexer style endpoint
    --epoch E           from/to are slots in epoch E (default: slots since genesis)
    --save FILE         also write the fetched blocks (.json or .csv) to rerun offline
  --slot-field F        explorer JSON: auto (slot in epoch when present), slot, or
                        slotSinceGenesis

Analysis:
  --from A, --to B      slot range, inclusive (default: smallest and largest slot present)
  --window N            slots a producer stays in the waitlist (default ${DEFAULT_WINDOW})
  --exclude-winners     the stricter rule: a slot's canonical creator does not join
  --sweep A:B           empty slots for every window from A to B, and the suggested window
  --chart FILE.svg      with --sweep: write a chart of empty % against window
  --json                print one JSON object instead of text
  -h, --help            this help

Exit codes: 0 done, 1 fetch failed, 2 bad input or options.`;

function parseSweep(value: string | undefined): { first: number; last: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) throw new UsageError(`--sweep: expected A:B (two window sizes), got ${JSON.stringify(value)}`, { field: 'sweep' });
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1 || first > last) throw new UsageError(`--sweep: need 1 ≤ A ≤ B, got ${value}`, { field: 'sweep' });
  return { first, last };
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    input: { type: 'string' },
    graphql: { type: 'string' },
    epoch: { type: 'string' },
    save: { type: 'string' },
    'slot-field': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    window: { type: 'string' },
    'exclude-winners': { type: 'boolean' },
    sweep: { type: 'string' },
    chart: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const from = intOption('from', values.from);
  const to = intOption('to', values.to);
  const window = intOption('window', values.window, 1) ?? DEFAULT_WINDOW;
  const epoch = intOption('epoch', values.epoch);
  const sweep = parseSweep(values.sweep);
  const slotField = values['slot-field'] as SlotField | undefined;
  if (slotField !== undefined && !['auto', 'slot', 'slotSinceGenesis'].includes(slotField)) {
    throw new UsageError(`--slot-field: expected auto, slot or slotSinceGenesis, got ${JSON.stringify(slotField)}`, { field: 'slot-field' });
  }
  if ((values.input === undefined) === (values.graphql === undefined)) {
    throw new UsageError('give exactly one input: --input FILE or --graphql URL (see --help)');
  }
  if (from !== undefined && to !== undefined && from > to) {
    throw new UsageError(`empty range: --from (${from}) is greater than --to (${to})`, { field: 'from' });
  }
  if (values.chart !== undefined && sweep === undefined) throw new UsageError('--chart needs --sweep A:B');
  if (values.save !== undefined && values.graphql === undefined) throw new UsageError('--save applies to --graphql');
  if (values.epoch !== undefined && values.graphql === undefined) throw new UsageError('--epoch applies to --graphql');

  let blocks: BlockRecord[];
  if (values.graphql !== undefined) {
    if (from === undefined || to === undefined) throw new UsageError('--graphql needs --from and --to');
    blocks = await fetchBlocks({
      url: values.graphql,
      from,
      to,
      epoch,
      onPage: (p) => process.stderr.write(`fetched slots ${p.from}–${p.to}: ${p.blocks} blocks (${p.total} in all)\n`),
      onRetry: (r) => process.stderr.write(`retrying slots ${r.from}–${r.to} after attempt ${r.attempt}: ${r.error}\n`),
    });
    if (values.save !== undefined) {
      await writeBlocksFile(values.save, blocks);
      process.stderr.write(`saved ${blocks.length} blocks to ${values.save}\n`);
    }
  } else {
    blocks = await readBlocksFile(values.input!, { slotField });
  }

  const range = { from, to, excludeWinners: values['exclude-winners'] ?? false };
  if (sweep !== undefined) {
    const result = sweepWindows(prepareRange(blocks, range), { ...range, ...sweep });
    if (values.chart !== undefined) {
      await writeFile(values.chart, renderSweepChart(result));
      process.stderr.write(`chart written to ${values.chart}\n`);
    }
    process.stdout.write(values.json ? JSON.stringify(result) + '\n' : formatSweep(result) + '\n');
    return 0;
  }
  const summary = analyseBackfill(blocks, { ...range, window });
  process.stdout.write(values.json ? JSON.stringify(summary) + '\n' : formatSummary(summary) + '\n');
  return 0;
}

await runCli(main);
