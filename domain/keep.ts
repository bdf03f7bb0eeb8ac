// Operator holds ("keep this snapshot"): the zfs hold tag and the property carrying the reason. Pure.

/** `zfs hold` tag of snapshots kept by `--keep`; zfs refuses to destroy them and retention sees them as held. */
export const keepHoldTag = 'tidemark-keep';
/** User property on a kept snapshot holding the operator's reason. */
export const keepReasonProperty = 'tidemark:keep';

const maxReasonLength = 200;

/** Why `reason` cannot be stored as a keep reason, or undefined when it can. */
export function keepReasonProblem(reason: string): string | undefined {
  if (reason.trim() === '') return 'give a reason, e.g. --keep "before upgrade"';
  if (reason.length > maxReasonLength)
    return `a reason may be at most ${maxReasonLength} characters (got ${reason.length})`;
  // zfs prints properties tab-separated, one per line: control characters would garble the listing.
  if (/\p{Cc}/u.test(reason)) return 'a reason may not contain tabs, newlines or other control characters';
  return undefined;
}
