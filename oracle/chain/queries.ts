/**
 * GraphQL documents sent to Mina block explorers (MinaExplorer, mina-indexer). The
 * client that sends them lives in `graphql.ts`.
 */

/**
 * Blocks of a slot range, canonical and not. `$query` selects the range: by
 * `slotSinceGenesis_gte/_lte`, or by `epoch` with `slot_gte/_lte` (slots in epoch).
 */
export const BLOCKS_QUERY = /* GraphQL */ `
  query PoolBlocks($query: BlockQueryInput!, $limit: Int!) {
    blocks(query: $query, limit: $limit, sortBy: BLOCKHEIGHT_ASC) {
      canonical
      stateHash
      creatorAccount {
        publicKey
      }
      protocolState {
        consensusState {
          epoch
          slot
          slotSinceGenesis
          lastVrfOutput
        }
      }
    }
  }
`;

/** The `$query` variable of {@link BLOCKS_QUERY} for slots `from..to` (inclusive). */
export function blocksQueryInput(from: number, to: number, epoch?: number): Record<string, unknown> {
  const consensusState =
    epoch === undefined
      ? { slotSinceGenesis_gte: from, slotSinceGenesis_lte: to }
      : { epoch, slot_gte: from, slot_lte: to };
  return { canonical_in: [true, false], protocolState: { consensusState } };
}
