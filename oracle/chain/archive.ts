import type { ChainEvent } from './chain.js';

/** The part of a zkApp command's JSON the archive reads. */
export interface ZkappCommandJson {
  feePayer: { body: { publicKey: string } };
  accountUpdates: { body: { publicKey: string; tokenId: string; events: string[][]; actions?: string[][] } }[];
}

/** The default (MINA) token id in base58, as a daemon writes it. */
export const DEFAULT_TOKEN_BASE58 = 'wSHV2S4qX9jFsLjQo8r1BsMLH2ZRKsZx6EJd1sbozGPieEC4Jf';

/**
 * The events of included transactions, per account, in the order they happened: what an
 * archive node answers. Built from each included command's JSON (an account update lists
 * its events newest first; they are stored oldest first).
 */
export class EventArchive {
  private readonly byAccount = new Map<string, ChainEvent[]>();

  record(command: ZkappCommandJson, at: { blockHeight: number; slot: number; transactionHash: string }): void {
    for (const update of command.accountUpdates) {
      const events = update.body.events;
      if (events.length === 0) continue;
      const key = `${update.body.publicKey}:${update.body.tokenId}`;
      const list = this.byAccount.get(key) ?? [];
      for (const data of [...events].reverse()) list.push({ data: [...data], ...at });
      this.byAccount.set(key, list);
    }
  }

  /** Events of an account, oldest first, optionally from/to block heights (inclusive). */
  events(publicKey: string, tokenId = DEFAULT_TOKEN_BASE58, range: { from?: number; to?: number } = {}): ChainEvent[] {
    const list = this.byAccount.get(`${publicKey}:${tokenId}`) ?? [];
    return list.filter((e) => (range.from === undefined || e.blockHeight >= range.from) && (range.to === undefined || e.blockHeight <= range.to));
  }
}
