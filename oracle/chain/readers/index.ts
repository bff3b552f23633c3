import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError } from '../../errors.js';
import { writeOutput } from '../../json-file.js';
import { vrfOutputToBase64Url } from '../../vrf/output.js';
import type { BlockRecord } from '../types.js';
import { readBlocksCsv, writeBlocksCsv } from './csv.js';
import { readBlocksJson, writeBlocksJson, type JsonReadOptions } from './json.js';

export type { SlotField, JsonReadOptions } from './json.js';
export { readBlocksCsv, writeBlocksCsv } from './csv.js';
export { blocksFromValue, readBlocksJson, writeBlocksJson } from './json.js';

/** Format of a blocks file, from its extension (`.csv`, `.json`); otherwise sniffed from its first character. */
function formatOf(file: string, text: string): 'csv' | 'json' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.json') return 'json';
  return /^\s*[[{]/.test(text) ? 'json' : 'csv';
}

/**
 * Reads a blocks file (CSV or JSON). Errors are {@link InputError}s naming the file, the
 * line or record, and the field.
 *
 * @example
 * const blocks = await readBlocksFile('epoch.json');
 */
export async function readBlocksFile(file: string, options: JsonReadOptions = {}): Promise<BlockRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new InputError(`${file}: cannot read the file (${why})`, { file }, { cause: e });
  }
  if (text.trim() === '') throw new InputError(`${file}: the file is empty`, { file });
  return formatOf(file, text) === 'csv' ? readBlocksCsv(text, file) : readBlocksJson(text, file, options);
}

/** Writes blocks as CSV or JSON by the file's extension; VRF outputs as Mina's base64url. */
export async function writeBlocksFile(file: string, blocks: readonly BlockRecord[]): Promise<void> {
  const csv = extname(file).toLowerCase() === '.csv';
  await writeOutput(file, csv ? writeBlocksCsv(blocks, vrfOutputToBase64Url) : writeBlocksJson(blocks, vrfOutputToBase64Url), 'blocks');
}
