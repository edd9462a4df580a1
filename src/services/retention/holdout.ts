import { createHash } from 'node:crypto';

/**
 * Holdout assignment: a deterministic hash of (account, customer, policy) mapped to [0, 1), so
 * re-running a decision never moves a customer between arms and no state is needed to know an
 * arm. It is random given eligibility (SHA-256 is independent of anything the customer did),
 * which is what makes treated-vs-holdout a fair comparison (UPLIFT.md "The experiment").
 */
export function holdoutDraw(account: string, customerId: string, policyId: string): number {
  const digest = createHash('sha256').update(`${account}\u0001${customerId}\u0001${policyId}`).digest();
  // 48 bits is plenty of resolution for a percentage and stays an exact double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function inHoldout(account: string, customerId: string, policyId: string, holdoutPercent: number): boolean {
  return holdoutPercent > 0 && holdoutDraw(account, customerId, policyId) < holdoutPercent / 100;
}
