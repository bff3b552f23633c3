import { Field } from 'o1js';
import type { ChainEvent } from '../chain/chain.js';

/** An event decoded with its contract's event types. */
export interface DecodedEvent {
  type: string;
  event: unknown;
  blockHeight: number;
  slot: number;
}

/**
 * Decodes a contract's raw events: the first field is the index of the event's name among
 * the contract's event names sorted (o1js's encoding, when a contract has several types).
 * An event that does not decode is an error naming it: the archive and the code disagree.
 */
/** What decoding needs of an event type. */
export interface EventType {
  sizeInFields(): number;
  fromFields(fields: Field[]): unknown;
}

export function decodeEvents(types: Record<string, EventType>, rows: ChainEvent[], contract: string): DecodedEvent[] {
  const names = Object.keys(types).sort();
  return rows.map((row, i) => {
    const fields = row.data.map((x) => Field(x));
    const name = names.length === 1 ? names[0]! : names[Number(fields[0]?.toBigInt() ?? -1)];
    const data = names.length === 1 ? fields : fields.slice(1);
    const type = name === undefined ? undefined : types[name];
    if (type === undefined || type.sizeInFields() !== data.length) {
      throw new Error(`${contract} event ${i + 1} (block ${row.blockHeight}) does not decode as any of its events (${row.data.length} fields)`);
    }
    return { type: name!, event: type.fromFields(data), blockHeight: row.blockHeight, slot: row.slot };
  });
}
