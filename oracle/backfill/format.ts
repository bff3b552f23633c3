import type { BackfillSummary, SweepResult } from './types.js';

const pct = (n: number) => `${n.toFixed(2)} %`;

/** The summary as a text table in the shape of the forum's epoch tables. */
export function formatSummary(s: BackfillSummary, title = `Summary of slots ${s.from}-${s.to} (${s.slots} slots in total)`): string {
  const rows: [string, string | number][] = [
    ['Total non-canonical blocks:', s.nonCanonicalBlocks],
    ['Total empty slots:', s.emptySlots],
    ['Original empty slots:', s.originalEmptySlots],
    ['Waitlist time-window:', s.window],
    ['Waitlist length after last block:', s.waitlistLengthAtEnd],
    ['Backfilled slots:', s.backfilled.length],
    ['Empty slots % without backfilling:', pct(s.emptyPercentBefore)],
    ['Empty slots % with backfilling:', pct(s.emptyPercentAfter)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return [
    title,
    '='.repeat(Math.max(title.length, 58)),
    ...rows.map(([k, v]) => k.padEnd(width) + String(v).padStart(8)),
    'Empty slots:',
    `[${s.emptySlotList.join(', ')}]`,
  ].join('\n');
}

/** A sweep as a text table, with the suggested window marked. */
export function formatSweep(s: SweepResult): string {
  const head = [
    `Window sweep of slots ${s.from}-${s.to} (${s.slots} slots): ${s.originalEmptySlots} empty without backfilling (${pct(s.emptyPercentBefore)})`,
    'window  empty slots  empty %  waitlist at end',
  ];
  const body = s.rows.map((r) => {
    const mark = r.window === s.suggestedWindow ? '  ← suggested' : '';
    return `${String(r.window).padStart(6)}  ${String(r.emptySlots).padStart(11)}  ${r.emptyPercent.toFixed(2).padStart(7)}  ${String(r.waitlistLengthAtEnd).padStart(15)}${mark}`;
  });
  const tail = [
    `Best: ${s.best.emptySlots} empty slots (${pct(s.best.emptyPercent)}) from window ${s.best.window}.`,
    `Suggested window: ${s.suggestedWindow} (the smallest within 0.1 percentage point of the best).`,
  ];
  return [...head, ...body, ...tail].join('\n');
}
