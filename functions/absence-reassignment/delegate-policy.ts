/**
 * Who may receive an absent person's work (DELEGATE_POLICY, docs/absence-reassignment.md). Anyone who
 * can send to the absence queue names the delegate, so by default the delegate must be someone the
 * organisation already trusts with that person's work:
 *
 *   chain-or-peers (default)  a manager above the absent person (their manager, that manager's
 *                             manager, … up to MANAGEMENT_CHAIN_LEVELS) or a peer (same manager);
 *   allow-list                one of DELEGATE_ALLOW_LIST (SailPoint identity ids), nobody else —
 *                             not even the manager;
 *   any                       anyone active in SailPoint (the behaviour before the policy existed).
 *
 * A candidate outside the policy is passed over like an absent one (delegate-chain.ts); when the
 * chain yields nobody the event is dead-lettered with the reason (every candidate and why).
 */
import type { DirectoryIdentity } from './delegate-chain';

export const DELEGATE_POLICIES = ['chain-or-peers', 'allow-list', 'any'] as const;
export type DelegatePolicyName = (typeof DELEGATE_POLICIES)[number];

export type DelegatePolicy =
  | { readonly kind: 'chain-or-peers' }
  | { readonly kind: 'allow-list'; readonly allowed: ReadonlySet<string> }
  | { readonly kind: 'any' };

/** Managers above the absent person that count as their chain (org charts are rarely deeper). */
export const MANAGEMENT_CHAIN_LEVELS = 10;

export const ANY_DELEGATE: DelegatePolicy = { kind: 'any' };

export function delegatePolicyOf(name: DelegatePolicyName, allowList: readonly string[]): DelegatePolicy {
  switch (name) {
    case 'allow-list':
      return { kind: 'allow-list', allowed: new Set(allowList) };
    case 'any':
      return ANY_DELEGATE;
    case 'chain-or-peers':
      return { kind: 'chain-or-peers' };
  }
}

/** The look-up the policy needs: a person's manager (cached by the caller's directory). */
export type IdentityLookup = (identityId: string) => Promise<DirectoryIdentity>;

/**
 * Checks candidates for one absent person. Returns why a candidate is outside the policy, or
 * undefined when they may cover. The absent person's chain is walked once, on the first question.
 */
export function delegatePolicyCheck(policy: DelegatePolicy, absentId: string, identity: IdentityLookup) {
  let chain: Promise<{ managerId: string | null; above: ReadonlySet<string> }> | undefined;
  const chainOfAbsent = async () => {
    const absent = await identity(absentId);
    const above = new Set<string>();
    let next = absent.managerId;
    while (next !== null && next !== absentId && !above.has(next) && above.size < MANAGEMENT_CHAIN_LEVELS) {
      above.add(next);
      next = (await identity(next)).managerId;
    }
    return { managerId: absent.managerId, above };
  };

  return async (candidateId: string, candidate: DirectoryIdentity): Promise<string | undefined> => {
    switch (policy.kind) {
      case 'any':
        return undefined;
      case 'allow-list':
        return policy.allowed.has(candidateId)
          ? undefined
          : 'is outside the delegate policy (allow-list: not in DELEGATE_ALLOW_LIST)';
      case 'chain-or-peers': {
        const { managerId, above } = await (chain ??= chainOfAbsent());
        if (above.has(candidateId)) return undefined;
        if (managerId !== null && candidate.managerId === managerId) return undefined;
        return (
          `is outside the delegate policy (chain-or-peers: neither a manager of ${absentId} ` +
          `within ${MANAGEMENT_CHAIN_LEVELS} levels nor sharing their manager)`
        );
      }
    }
  };
}
