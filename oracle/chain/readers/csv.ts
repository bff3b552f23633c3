import { InputError } from '../../errors.js';
import type { BlockRecord } from '../types.js';
import { toBlockRecord, type RawRecord } from './record.js';

/** Header names accepted for each field (case-insensitive). */
const COLUMNS: { [K in keyof BlockRecord]-?: string[] } = {
  slot: ['slot'],
  creator: ['creator', 'block_creator', 'creator_pk'],
  canonical: ['canonical', 'chain_status', 'chainstatus'],
  vrfOutput: ['vrfoutput', 'vrf_output', 'last_vrf_output', 'lastvrfoutput'],
  stateHash: ['statehash', 'state_hash'],
};
const REQUIRED = ['slot', 'creator', 'canonical'] as const;

/** One CSV row: its cells and the line it starts on (1-based). */
interface Row {
  cells: string[];
  line: number;
}

/** Splits CSV text into rows (RFC 4180: quoted cells, doubled quotes, CRLF or LF). */
export function parseCsvRows(text: string, file: string): Row[] {
  const rows: Row[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ cells, line: rowLine });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (quoted) throw new InputError(`${file}:${rowLine}: unterminated quoted field`, { file, line: rowLine });
  cells.push(cell);
  if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ cells, line: rowLine });
  return rows;
}

/**
 * Reads blocks from CSV text: a header with at least `slot`, `creator`, `canonical`
 * (or `chain_status`), optionally `vrf_output` and `state_hash`.
 */
export function readBlocksCsv(text: string, file: string): BlockRecord[] {
  const rows = parseCsvRows(text, file);
  const header = rows[0];
  if (header === undefined) throw new InputError(`${file}: the file is empty`, { file });
  const names = header.cells.map((h) => h.trim().replace(/^\uFEFF/, '').toLowerCase());
  const index = {} as { [K in keyof BlockRecord]-?: number };
  for (const key of Object.keys(COLUMNS) as (keyof BlockRecord)[]) {
    index[key] = names.findIndex((n) => COLUMNS[key].includes(n));
  }
  for (const key of REQUIRED) {
    if (index[key] < 0) {
      throw new InputError(`${file}:${header.line}: the header has no '${key}' column (found: ${names.join(', ') || 'nothing'})`, {
        file,
        line: header.line,
        field: key,
      });
    }
  }
  return rows.slice(1).map((row) => {
    const get = (key: keyof BlockRecord) => ({
      value: index[key] < 0 ? undefined : row.cells[index[key]],
      name: index[key] < 0 ? key : header.cells[index[key]]!.trim(),
    });
    const raw: RawRecord = { slot: get('slot'), creator: get('creator'), canonical: get('canonical'), vrfOutput: get('vrfOutput'), stateHash: get('stateHash') };
    return toBlockRecord(raw, { file, line: row.line });
  });
}

/** Writes blocks as CSV in the header order the reader expects. */
export function writeBlocksCsv(blocks: readonly BlockRecord[], encodeVrf: (v: bigint) => string = String): string {
  const lines = ['slot,creator,canonical,vrf_output,state_hash'];
  for (const b of blocks) {
    lines.push([b.slot, b.creator, b.canonical, b.vrfOutput === undefined ? '' : encodeVrf(b.vrfOutput), b.stateHash ?? ''].join(','));
  }
  return lines.join('\n') + '\n';
}
