import { InputError } from '../../errors.js';
import { parseJsonText } from '../../json-file.js';
import type { BlockRecord } from '../types.js';
import { toBlockRecord, type RawRecord } from './record.js';

/**
 * Which slot number an explorer-style record gives: `slot` (slot in epoch, as the
 * forum's tables), `slotSinceGenesis`, or `auto` (`slot` when present).
 */
export type SlotField = 'auto' | 'slot' | 'slotSinceGenesis';

export interface JsonReadOptions {
  slotField?: SlotField;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Finds the array of blocks: a plain array, `{blocks}` or a GraphQL answer `{data: {blocks}}`. */
function blockArray(doc: unknown, file: string): { items: unknown[]; prefix: string } {
  if (Array.isArray(doc)) return { items: doc, prefix: '' };
  if (isObj(doc)) {
    if (Array.isArray(doc.blocks)) return { items: doc.blocks, prefix: 'blocks' };
    if (isObj(doc.data) && Array.isArray(doc.data.blocks)) return { items: doc.data.blocks, prefix: 'data.blocks' };
  }
  throw new InputError(`${file}: expected an array of blocks, an object with 'blocks', or a GraphQL answer with 'data.blocks'`, {
    file,
    field: 'blocks',
  });
}

type Field = { value: unknown; name: string };

/** The slot of a record: flat records carry `slot` (or `slotSinceGenesis`), explorer records a consensus state. */
function slotOf(item: Obj, cs: Obj | undefined, slotField: SlotField): Field {
  if (cs === undefined) {
    return slotField === 'slotSinceGenesis' && 'slotSinceGenesis' in item
      ? { value: item.slotSinceGenesis, name: 'slotSinceGenesis' }
      : { value: item.slot, name: 'slot' };
  }
  const genesis = slotField === 'slotSinceGenesis' || (slotField === 'auto' && cs.slot === undefined);
  return genesis
    ? { value: cs.slotSinceGenesis, name: 'protocolState.consensusState.slotSinceGenesis' }
    : { value: cs.slot, name: 'protocolState.consensusState.slot' };
}

/** The raw fields of one record, flat (`{slot, creator, canonical}`) or explorer-style. */
function rawFields(item: Obj, slotField: SlotField): RawRecord & { epoch?: unknown } {
  const cs = isObj(item.protocolState) && isObj(item.protocolState.consensusState) ? item.protocolState.consensusState : undefined;
  const creatorAccount = isObj(item.creatorAccount) ? item.creatorAccount : undefined;
  const f = (value: unknown, name: string): Field => ({ value, name });
  const slot = slotOf(item, cs, slotField);
  const creator =
    'creatorAccount' in item ? f(creatorAccount?.publicKey, 'creatorAccount.publicKey') : f(item.creator, 'creator');
  const canonical =
    'canonical' in item ? f(item.canonical, 'canonical') : 'chainStatus' in item ? f(item.chainStatus, 'chainStatus') : f(item.chain_status, 'canonical');
  const vrfOutput =
    'vrfOutput' in item ? f(item.vrfOutput, 'vrfOutput') : f(cs?.lastVrfOutput, 'protocolState.consensusState.lastVrfOutput');
  return { slot, creator, canonical, vrfOutput, stateHash: f(item.stateHash, 'stateHash'), epoch: cs?.epoch };
}

/**
 * Reads blocks from JSON text: an array of `{slot, creator, canonical, vrfOutput?, stateHash?}`,
 * or the `blocks` of a mina-indexer / MinaExplorer-style GraphQL answer.
 */
export function readBlocksJson(text: string, file: string, options: JsonReadOptions = {}): BlockRecord[] {
  return blocksFromValue(parseJsonText(text, file), file, options);
}

/**
 * Validates an already parsed JSON value (a file's content or a GraphQL answer) as blocks.
 * `source` names it in errors (a file name or an endpoint).
 */
export function blocksFromValue(doc: unknown, source: string, options: JsonReadOptions = {}): BlockRecord[] {
  const file = source;
  const slotField = options.slotField ?? 'auto';
  const { items, prefix } = blockArray(doc, file);
  const epochs = new Set<string>();
  let usedEpochSlot = false;
  const records = items.map((item, i) => {
    const path = `${prefix}[${i}]`;
    if (!isObj(item)) {
      throw new InputError(`${file}: record ${i + 1} (${path}): expected an object`, { file, record: i + 1 });
    }
    const raw = rawFields(item, slotField);
    if (raw.slot.name === 'protocolState.consensusState.slot') {
      usedEpochSlot = true;
      if (raw.epoch !== undefined) epochs.add(String(raw.epoch));
    }
    return toBlockRecord(raw, { file, record: i + 1, path });
  });
  if (usedEpochSlot && epochs.size > 1) {
    throw new InputError(
      `${file}: records span epochs ${[...epochs].sort((a, b) => Number(a) - Number(b)).join(', ')}; slot-in-epoch numbers restart each epoch, use --slot-field slotSinceGenesis`,
      { file, field: 'protocolState.consensusState.epoch' },
    );
  }
  return records;
}

/** The plain JSON form of blocks (what `--save` and the simulator write). */
export function writeBlocksJson(blocks: readonly BlockRecord[], encodeVrf: (v: bigint) => string = String): string {
  const plain = blocks.map((b) => ({
    slot: b.slot,
    creator: b.creator,
    canonical: b.canonical,
    ...(b.vrfOutput === undefined ? {} : { vrfOutput: encodeVrf(b.vrfOutput) }),
    ...(b.stateHash === undefined ? {} : { stateHash: b.stateHash }),
  }));
  return '[\n' + plain.map((p) => '  ' + JSON.stringify(p)).join(',\n') + '\n]\n';
}
