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

/**
 * Queries only the local network (`npm run chain`) answers, beside the daemon's and the
 * archive's: what it is, letting slots pass, and its faucet. A real daemon refuses them.
 */
export const LOCAL_CHAIN_QUERY = /* GraphQL */ `
  query LocalChain {
    localChain {
      slot
      proofsEnabled
      networkId
    }
  }
`;

export const LOCAL_ADVANCE_MUTATION = /* GraphQL */ `
  mutation AdvanceSlots($slots: Int!) {
    advanceSlots(slots: $slots) {
      slot
    }
  }
`;

export const LOCAL_FUND_MUTATION = /* GraphQL */ `
  mutation Fund($publicKey: String!, $amount: String!) {
    fund(publicKey: $publicKey, amount: $amount) {
      hash
    }
  }
`;
