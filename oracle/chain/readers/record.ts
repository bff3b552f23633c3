import { InputError } from '../../errors.js';
import type { BlockRecord } from '../types.js';
import { parseCanonical, parseCreator, parseOptionalText, parseOptionalVrf, parseSlot, showValue } from './fields.js';

/** Where a record came from, for error messages: `blocks.csv:12` or `blocks.json: record 12`. */
export interface RecordLocation {
  file: string;
  /** Line number (CSV) … */
  line?: number;
  /** … or 1-based record number and its JSON path (JSON). */
  record?: number;
  path?: string;
}

function where(loc: RecordLocation): string {
  if (loc.line !== undefined) return `${loc.file}:${loc.line}`;
  return `${loc.file}: record ${loc.record}${loc.path ? ` (${loc.path})` : ''}`;
}

/** The raw values of one record, by the field names of {@link BlockRecord}, with each one's source name. */
export type RawRecord = { [K in keyof BlockRecord]-?: { value: unknown; name: string } };

/**
 * Validates one raw record. Throws an {@link InputError} naming the file, the line or
 * record, and the field.
 */
export function toBlockRecord(raw: RawRecord, loc: RecordLocation): BlockRecord {
  const fail = (field: { name: string; value: unknown }, expected: string): never => {
    const missing = field.value === undefined || field.value === null || field.value === '';
    const message = missing
      ? `${where(loc)}: field '${field.name}' is missing (expected ${expected})`
      : `${where(loc)}: field '${field.name}': expected ${expected}, got ${showValue(field.value)}`;
    throw new InputError(message, { file: loc.file, line: loc.line, record: loc.record, field: field.name });
  };
  const slot = parseSlot(raw.slot.value);
  if (!slot.ok) return fail(raw.slot, slot.problem.expected);
  const creator = parseCreator(raw.creator.value);
  if (!creator.ok) return fail(raw.creator, creator.problem.expected);
  const canonical = parseCanonical(raw.canonical.value);
  if (!canonical.ok) return fail(raw.canonical, canonical.problem.expected);
  const vrf = parseOptionalVrf(raw.vrfOutput.value);
  if (!vrf.ok) return fail(raw.vrfOutput, vrf.problem.expected);
  const stateHash = parseOptionalText(raw.stateHash.value);
  if (!stateHash.ok) return fail(raw.stateHash, stateHash.problem.expected);
  const record: BlockRecord = { slot: slot.value, creator: creator.value, canonical: canonical.value };
  if (vrf.value !== undefined) record.vrfOutput = vrf.value;
  if (stateHash.value !== undefined) record.stateHash = stateHash.value;
  return record;
}
