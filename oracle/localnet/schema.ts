/**
 * The part of a Mina daemon's and an archive node's GraphQL schema that o1js's
 * `Mina.Network`, `fetchAccount`, `fetchLastBlock`, `fetchEvents` and `fetchActions` use,
 * plus the local chain's own `localChain`, `advanceSlots` and `fund`.
 */
export const LOCAL_SCHEMA = /* GraphQL */ `
  scalar JSON

  type Balance { total: String! }
  type Timing {
    initialMinimumBalance: String
    cliffTime: String
    cliffAmount: String
    vestingPeriod: String
    vestingIncrement: String
  }
  type VerificationKeyPermission { auth: String! txnVersion: String! }
  type Permissions {
    editState: String!
    access: String!
    send: String!
    receive: String!
    setDelegate: String!
    setPermissions: String!
    setVerificationKey: VerificationKeyPermission!
    setZkappUri: String!
    editActionState: String!
    setTokenSymbol: String!
    incrementNonce: String!
    setVotingFor: String!
    setTiming: String!
  }
  type AccountRef { publicKey: String! }
  type VerificationKeyWithHash { verificationKey: String! hash: String! }
  type Account {
    publicKey: String!
    token: String!
    nonce: String!
    inferredNonce: String!
    balance: Balance!
    tokenSymbol: String
    receiptChainHash: String
    timing: Timing!
    permissions: Permissions!
    delegateAccount: AccountRef
    votingFor: String
    zkappState: [String!]
    verificationKey: VerificationKeyWithHash
    actionState: [String!]
    provedState: Boolean!
    zkappUri: String
  }

  type EpochLedger { hash: String! totalCurrency: String! }
  type EpochData { ledger: EpochLedger! seed: String! startCheckpoint: String! lockCheckpoint: String! epochLength: String! }
  type ConsensusState {
    blockHeight: String!
    slotSinceGenesis: String!
    slot: String!
    epoch: String!
    epochCount: String!
    minWindowDensity: String!
    totalCurrency: String!
    nextEpochData: EpochData!
    stakingEpochData: EpochData!
  }
  type BlockchainState { snarkedLedgerHash: String! stagedLedgerHash: String! date: String! utcDate: String! stagedLedgerProofEmitted: Boolean! }
  type ProtocolState { previousStateHash: String! blockchainState: BlockchainState! consensusState: ConsensusState! }
  type FailureReason { index: Int failures: [String!]! }
  type ZkappCommandResult { hash: String! failureReason: [FailureReason] }
  type Transactions { zkappCommands: [ZkappCommandResult!]! }
  type Block { stateHash: String! protocolState: ProtocolState! transactions: Transactions! }

  type GenesisConstants { genesisTimestamp: String! coinbase: String! accountCreationFee: String! }
  type ConsensusConfiguration { epochDuration: Int! k: Int! slotDuration: Int! slotsPerEpoch: Int! }
  type DaemonStatus { consensusConfiguration: ConsensusConfiguration! }

  input EventFilterOptionsInput { address: String! tokenId: String status: String from: Int to: Int }
  input ActionFilterOptionsInput { address: String! tokenId: String status: String from: Int to: Int fromActionState: String endActionState: String }
  type BlockInfo {
    height: Int!
    stateHash: String!
    parentHash: String!
    ledgerHash: String!
    chainStatus: String!
    timestamp: String!
    globalSlotSinceHardfork: Int!
    globalSlotSinceGenesis: Int!
    distanceFromMaxBlockHeight: Int!
  }
  type TransactionInfo { status: String! hash: String! memo: String! authorizationKind: String! sequenceNumber: Int! zkappAccountUpdateIds: [Int!]! }
  type EventData { transactionInfo: TransactionInfo! data: [String!]! }
  type EventOutput { blockInfo: BlockInfo! eventData: [EventData!]! }
  type ActionStates { actionStateOne: String! actionStateTwo: String! }
  type ActionData { accountUpdateId: String! data: [String!]! transactionInfo: TransactionInfo! }
  type ActionOutput { blockInfo: BlockInfo! actionState: ActionStates! actionData: [ActionData!]! }

  type LocalChain { slot: Int! height: Int! proofsEnabled: Boolean! networkId: String! faucet: String! }

  type Query {
    account(publicKey: String!, token: String): Account
    bestChain(maxLength: Int): [Block!]!
    genesisConstants: GenesisConstants!
    daemonStatus: DaemonStatus!
    transactionStatus(zkappTransaction: String): String!
    events(input: EventFilterOptionsInput!): [EventOutput!]!
    actions(input: ActionFilterOptionsInput!): [ActionOutput!]!
    localChain: LocalChain!
  }

  input SendZkappInput { zkappCommand: JSON! }
  type FeePayerBody { publicKey: String! }
  type FeePayer { body: FeePayerBody! }
  type AccountUpdateBody { publicKey: String! useFullCommitment: Boolean! incrementNonce: Boolean! }
  type AccountUpdate { body: AccountUpdateBody! }
  type ZkappCommand { memo: String! feePayer: FeePayer! accountUpdates: [AccountUpdate!]! }
  type ZkappCommandSent { hash: String! id: String! failureReason: [FailureReason] zkappCommand: ZkappCommand! }
  type SendZkappPayload { zkapp: ZkappCommandSent! }
  type FundPayload { hash: String! }

  type Mutation {
    sendZkapp(input: SendZkappInput!): SendZkappPayload!
    advanceSlots(slots: Int!): LocalChain!
    fund(publicKey: String!, amount: String!): FundPayload!
  }
`;
