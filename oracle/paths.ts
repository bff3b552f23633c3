import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this module that holds `package.json`. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** The real staking ledger shipped beside the project (`../shared/data/ledgers/`). */
export function defaultLedgerPath(): string {
  return resolve(projectRoot(), '..', 'shared', 'data', 'ledgers', 'mainnet-staking-ledger-epoch0-2021.json');
}

/** Added to the error when the default ledger is missing (a checkout without `../shared`). */
export const DEFAULT_LEDGER_HINT = '; the default ledger comes from ../shared/data/ledgers beside the project, or pass --ledger FILE';
