/** The chain's failure codes, in words, with what to do next. */
const REASONS: [RegExp, string][] = [
  [/Account_is_new_precondition_unsatisfied/, 'an account it creates exists already (a vote, claim, proposal or spend that was already made)'],
  [/Account_app_state_precondition_unsatisfied/, "the pool's on-chain state changed after it was built (another transaction landed first): run the command again"],
  [/Account_balance_precondition_unsatisfied/, 'a balance it relies on changed or is out of range (a tally, a paid counter, or the pool does not hold enough)'],
  [/Valid_while_precondition_unsatisfied|Protocol_state_precondition_unsatisfied/, 'it was included outside the slots it allows (a window closed or has not opened yet)'],
  [/Account_nonce_precondition_unsatisfied/, "the fee payer's nonce changed (another transaction from the same key landed first): run the command again"],
  [/Update_not_permitted_access|Update_not_permitted_balance|Update_not_permitted_\w+/, 'an account refused the update: pool contracts accept only proved updates (no key can sign for them)'],
  [/Amount_insufficient_to_create_account/, 'an account it creates needs the account creation fee (1 MINA)'],
  [/Invalid fee excess|Invalid_fee_excess/, 'its balance changes do not add up (an account it pays to create exists already?)'],
  [/Overflow/, 'an amount is larger than the balance that would pay it'],
  [/Insufficient|Fee_payer_balance/, 'the fee payer does not hold enough MINA for the fee'],
  [/Invalid signature|Invalid_signature/, 'a signature does not verify (wrong key or wrong network)'],
];

/** Explains a chain refusal in words; the chain's own text follows, shortened. */
export function explainRejection(text: string, failures: string[] = []): string {
  const reasons = REASONS.filter(([re]) => re.test(text)).map(([, why]) => why);
  const raw = failures.length > 0 ? failures.join(', ') : text.replace(/\s+/g, ' ').slice(0, 400);
  return reasons.length > 0 ? `${reasons.join('; ')} (chain: ${raw})` : raw;
}

/** Whether a refusal only means the state moved on, so the same action built again may pass. */
export function isStale(failures: string[]): boolean {
  return failures.some((f) => /Account_app_state_precondition_unsatisfied|Account_nonce_precondition_unsatisfied/.test(f));
}
