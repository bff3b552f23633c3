import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '../oracle/errors.js';
import { privateKeyScalar } from '../oracle/crypto/keys.js';
import { evaluateVrf, MAX_INDEX, MAX_SLOT, parseSeed } from '../oracle/vrf/evaluate.js';
import { vrfOutputToBase58, vrfOutputToBase64Url } from '../oracle/vrf/output.js';
import { isWinning, outputFraction, thresholdFraction } from '../oracle/vrf/threshold.js';
import { command, output, wholeNumber } from './cli.js';

interface VrfOptions {
  key: string;
  seed: string;
  slot: number;
  index: number;
  stake?: bigint;
  total?: bigint;
  json?: boolean;
}

/** An amount of nanomina: a whole number, without a sign or a decimal point. */
function nanomina(value: string): bigint {
  if (!/^\d{1,30}$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number of nanomina, got "${value}"`);
  return BigInt(value.trim());
}

/** What `vrf` prints: the output in Mina's two encodings, its fraction of 2^253 and, with stake and total, the threshold and the verdict. */
export interface VrfResult {
  output: string;
  outputBase64: string;
  fraction: number;
  threshold?: number;
  wins?: boolean;
}

export function vrfResult(o: Omit<VrfOptions, 'json'>): VrfResult {
  if ((o.stake === undefined) !== (o.total === undefined)) throw new InputError('--stake and --total go together (both in nanomina)', {});
  if (o.total !== undefined && o.total === 0n) throw new InputError('--total must be more than 0', {});
  if (o.stake !== undefined && o.total !== undefined && o.stake > o.total) throw new InputError(`--stake (${o.stake}) is more than --total (${o.total})`, {});
  const { truncated } = evaluateVrf(privateKeyScalar(o.key), parseSeed(o.seed), o.slot, o.index);
  const result: VrfResult = { output: vrfOutputToBase58(truncated), outputBase64: vrfOutputToBase64Url(truncated), fraction: outputFraction(truncated) };
  if (o.stake !== undefined && o.total !== undefined) {
    result.threshold = thresholdFraction(o.stake, o.total);
    result.wins = isWinning(truncated, o.stake, o.total);
  }
  return result;
}

/** `vrf`: Mina's slot-lottery VRF for one key, seed, slot and ledger index, and whether it wins. */
export function vrfCommand(): Command {
  return command('vrf', "Evaluate Mina's slot-lottery VRF off chain: the output for (key, seed, slot, index) and, with stake and total, whether it wins")
    .requiredOption('--key <EK…>', "the producer's private key (base58, EK…)")
    .requiredOption('--seed <seed>', "the staking epoch's seed: a decimal field element or base58 (2v…)")
    .requiredOption('--slot <n>', 'global slot since the hard fork', wholeNumber(0, MAX_SLOT))
    .requiredOption('--index <i>', "the delegating account's index in the staking ledger", wholeNumber(0, MAX_INDEX))
    .option('--stake <nanomina>', "the delegating account's balance in the staking ledger", nanomina)
    .option('--total <nanomina>', "the staking ledger's total currency", nanomina)
    .option('--json', 'print one JSON object {output, outputBase64, fraction, threshold, wins}')
    .addHelpText(
      'after',
      `
The output is the truncated VRF output (253 bits) in base58 (48H…) and in the archive's
base64url; fraction is output / 2^253. It wins when fraction ≤ threshold, the threshold being
Mina's approximation of 1 − (1/4)^(stake/total), computed exactly as the protocol does.

Example:
  npm run -s vrf -- --key EKFKgDtU3rcuFTVSEpmpXSkukjmX4cKefYREi6Sdsk7E7wsT7KRw --seed 0 --slot 0 --index 0 --json`,
    )
    .action((o: VrfOptions) => {
      const r = vrfResult(o);
      const lines = [`output     ${r.output}`, `base64url  ${r.outputBase64}`, `fraction   ${r.fraction}`];
      if (r.threshold !== undefined) lines.push(`threshold  ${r.threshold}`, `wins       ${r.wins ? 'yes' : 'no'}`);
      output(o.json, lines.join('\n'), r);
    });
}
