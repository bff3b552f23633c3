import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../oracle/errors.js';
import { readBlocksCsv, readBlocksFile, readBlocksJson, writeBlocksFile } from '../../../oracle/chain/readers/index.js';
import type { BlockRecord } from '../../../oracle/chain/types.js';

const PK = 'B62qiy32p8kAKnny8ZFwoMhYpBppM1DWVCqAPBYNcXnsAHhnfAAuXgg';
const VRF_A = '39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('CSV blocks', () => {
  it('reads slot, creator, canonical, VRF output and state hash; chain_status values map to canonical', () => {
    const text = `slot,creator,chain_status,last_vrf_output,state_hash\n7,${PK},canonical,${VRF_A},3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP\n7,${PK},orphaned,12345,\n8,"${PK}",pending,,\n`;
    const blocks = readBlocksCsv(text, 'b.csv');
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatchObject({ slot: 7, creator: PK, canonical: true, stateHash: '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP' });
    expect(blocks[0]!.vrfOutput).toBe(BigInt('0x' + Buffer.from(VRF_A, 'base64url').reverse().toString('hex')));
    expect(blocks[1]).toEqual({ slot: 7, creator: PK, canonical: false, vrfOutput: 12345n });
    expect(blocks[2]).toEqual({ slot: 8, creator: PK, canonical: false });
  });

  it('accepts CRLF line ends, a BOM, blank lines, any column order and quoted cells with commas', () => {
    const text = `\uFEFFcanonical,slot,creator,note\r\ntrue,1,A,"x, ""y"""\r\n\r\nfalse,2,B,\r\n`;
    expect(readBlocksCsv(text, 'b.csv')).toEqual([
      { slot: 1, creator: 'A', canonical: true },
      { slot: 2, creator: 'B', canonical: false },
    ]);
  });

  it('names the file, line and field of a non-integer slot', () => {
    const e = inputError(() => readBlocksCsv('slot,creator,canonical\n1,A,true\n2.5,B,false\n', 'b.csv'));
    expect(e.message).toBe('b.csv:3: field \'slot\': expected a non-negative integer, got "2.5"');
    expect(e.context).toMatchObject({ file: 'b.csv', line: 3, field: 'slot' });
  });

  it('names a missing creator', () => {
    expect(inputError(() => readBlocksCsv('slot,creator,canonical\n1,,true\n', 'b.csv')).message).toMatch(/^b\.csv:2: field 'creator' is missing/);
  });

  it('names an unknown canonical value and lists the accepted ones', () => {
    const e = inputError(() => readBlocksCsv('slot,creator,canonical\n1,A,maybe\n', 'b.csv'));
    expect(e.message).toMatch(/^b\.csv:2: field 'canonical': expected one of true, false, canonical, orphaned, pending/);
    expect(e.message).toMatch(/got "maybe"$/);
  });

  it('names a bad VRF output', () => {
    expect(inputError(() => readBlocksCsv('slot,creator,canonical,vrf_output\n1,A,true,xyz\n', 'b.csv')).message).toMatch(
      /^b\.csv:2: field 'vrf_output': expected a VRF output/,
    );
    // 2^253 does not fit a truncated output.
    expect(() => readBlocksCsv(`slot,creator,canonical,vrf_output\n1,A,true,${2n ** 253n}\n`, 'b.csv')).toThrow(/field 'vrf_output'/);
  });

  it('names a missing header column and an unterminated quote', () => {
    expect(inputError(() => readBlocksCsv('slot,producer,canonical\n1,A,true\n', 'b.csv')).message).toMatch(/b\.csv:1: the header has no 'creator' column/);
    expect(inputError(() => readBlocksCsv('slot,creator,canonical\n1,"A,true\n', 'b.csv')).message).toMatch(/b\.csv:2: unterminated quoted field/);
  });
});

describe('JSON blocks', () => {
  it('reads a plain array of records, VRF outputs as decimal, base64url or base58', () => {
    const blocks = readBlocksJson(
      JSON.stringify([
        { slot: 1, creator: 'A', canonical: true, vrfOutput: '42' },
        { slot: '2', creator: 'B', canonical: 'orphaned', vrfOutput: VRF_A },
        { slot: 2, creator: 'C', canonical: false, vrfOutput: '48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4C' },
      ]),
      'b.json',
    );
    expect(blocks.map((x) => x.slot)).toEqual([1, 2, 2]);
    expect(blocks[0]!.vrfOutput).toBe(42n);
    expect(blocks[1]!.vrfOutput).toBe(blocks[2]!.vrfOutput);
    expect(blocks[1]!.canonical).toBe(false);
  });

  const explorer = (epoch: number, slot: number, slotSinceGenesis: number, canonical: boolean) => ({
    canonical,
    stateHash: '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP',
    creatorAccount: { publicKey: PK },
    protocolState: { consensusState: { epoch, slot, slotSinceGenesis, lastVrfOutput: VRF_A } },
  });

  it('reads the blocks of an explorer GraphQL answer, by slot in epoch or since genesis', () => {
    const text = JSON.stringify({ data: { blocks: [explorer(13, 1528, 94348, true), explorer(13, 1529, 94349, false)] } });
    expect(readBlocksJson(text, 'g.json').map((x) => x.slot)).toEqual([1528, 1529]);
    expect(readBlocksJson(text, 'g.json', { slotField: 'slotSinceGenesis' }).map((x) => x.slot)).toEqual([94348, 94349]);
    expect(readBlocksJson(JSON.stringify({ blocks: [explorer(13, 5, 6, true)] }), 'g.json')[0]).toMatchObject({ creator: PK, canonical: true, slot: 5 });
  });

  it('refuses slot-in-epoch numbers from records of several epochs', () => {
    const text = JSON.stringify({ blocks: [explorer(13, 7139, 99959, true), explorer(14, 0, 99960, true)] });
    expect(() => readBlocksJson(text, 'g.json')).toThrow(/records span epochs 13, 14.*--slot-field slotSinceGenesis/);
    expect(readBlocksJson(text, 'g.json', { slotField: 'slotSinceGenesis' })).toHaveLength(2);
  });

  it('names the record and the field path of a bad value', () => {
    const bad = { data: { blocks: [explorer(1, 1, 1, true), { ...explorer(1, 2, 2, true), creatorAccount: {} }] } };
    const e = inputError(() => readBlocksJson(JSON.stringify(bad), 'g.json'));
    expect(e.message).toBe("g.json: record 2 (data.blocks[1]): field 'creatorAccount.publicKey' is missing (expected a producer public key (B62…))");
    expect(inputError(() => readBlocksJson('[{"slot":-1,"creator":"A","canonical":true}]', 'b.json')).message).toMatch(
      /record 1 \(\[0\]\): field 'slot': expected a non-negative integer, got -1/,
    );
    expect(inputError(() => readBlocksJson('[{"slot":1.5,"creator":"A","canonical":true}]', 'b.json')).context).toMatchObject({ record: 1, field: 'slot' });
    expect(inputError(() => readBlocksJson('[3]', 'b.json')).message).toMatch(/record 1 \(\[0\]\): expected an object/);
  });

  it('names the line of a JSON syntax error and rejects other shapes', () => {
    expect(inputError(() => readBlocksJson('[\n{"slot": 1,}\n]', 'b.json')).message).toMatch(/^b\.json:2:\d+: not valid JSON/);
    expect(inputError(() => readBlocksJson('{"rows": []}', 'b.json')).message).toMatch(/expected an array of blocks/);
  });
});

describe('blocks files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blocks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reject an empty file and a missing file, naming them', async () => {
    await writeFile(join(dir, 'empty.csv'), '');
    await expect(readBlocksFile(join(dir, 'empty.csv'))).rejects.toThrow(`${join(dir, 'empty.csv')}: the file is empty`);
    await writeFile(join(dir, 'blank.json'), '  \n');
    await expect(readBlocksFile(join(dir, 'blank.json'))).rejects.toThrow(/the file is empty/);
    await expect(readBlocksFile(join(dir, 'none.csv'))).rejects.toThrow(/none\.csv: cannot read the file \(no such file\)/);
  });

  it('round-trip through JSON and CSV with VRF outputs as Mina base64url', async () => {
    const blocks: BlockRecord[] = [
      { slot: 3, creator: PK, canonical: true, vrfOutput: 2n ** 252n + 7n, stateHash: '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP' },
      { slot: 4, creator: 'B62other', canonical: false },
    ];
    for (const name of ['x.json', 'x.csv']) {
      await writeBlocksFile(join(dir, name), blocks);
      expect(await readBlocksFile(join(dir, name))).toEqual(blocks);
    }
  });
});
