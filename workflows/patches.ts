// The live patch ids of the workflow code, with when each came and when it may go. Workflow code calls
// `patched(patches.X.id)`; test/patches.test.ts fails when a `patched(...)` names an id not listed here,
// or when an id listed here is no longer used.
//
// A patch's life (Temporal's versioning: https://docs.temporal.io/develop/typescript/versioning):
//   1. `patched(id)` beside the old code: old histories replay the old branch, new runs take the new one.
//   2. `deprecatePatch(id)` and the old branch deleted, once no execution that started before the patch can
//      still be replayed: none open (a backup lasts at most its 7-day transfer timeout plus retries) and none
//      closed within the namespace's retention (a query on a closed run replays it). Delete the recorded
//      histories from before the patch in test/histories/ at the same time: they would no longer replay.
//   3. The `deprecatePatch` call removed, once no execution started under step 1 can be replayed either.
// `deprecateAfter` is the earliest date for step 2 with the default 7-day retention of `tidemark setup`;
// a namespace with a longer retention waits that much longer.

export interface PatchEntry {
  /** The id in workflow histories: never change it. */
  readonly id: string;
  /** The release date of the code that added it. */
  readonly since: string;
  /** Earliest date step 2 may happen (see above). */
  readonly deprecateAfter: string;
  /** What the old branch did. */
  readonly oldBehaviour: string;
}

export const patches = {
  notify: {
    id: 'notify',
    since: '2026-11-23',
    deprecateAfter: '2026-12-21',
    oldBehaviour: 'no monitoring step: runs ended without notifyStart/notifyOutcome',
  },
  retention: {
    id: 'retention',
    since: '2026-11-23',
    deprecateAfter: '2026-12-21',
    oldBehaviour: 'no prune after a backup',
  },
  searchAttributes: {
    id: 'search-attributes',
    since: '2026-12-01',
    deprecateAfter: '2026-12-29',
    oldBehaviour: 'runs did not set TidemarkStatus/TidemarkSnapshot/TidemarkFinished',
  },
  oneStepPlan: {
    id: 'one-step-plan',
    since: '2026-12-01',
    deprecateAfter: '2026-12-29',
    oldBehaviour: 'planBackup and ensureDataset as two steps',
  },
  snapshotWithRetention: {
    id: 'snapshot-with-retention',
    since: '2026-12-01',
    deprecateAfter: '2026-12-29',
    oldBehaviour: 'takeSnapshot, listSnapshots and pruneSnapshots as three steps',
  },
  replicaRun: {
    id: 'replica-run',
    since: '2026-12-07',
    deprecateAfter: '2027-01-04',
    oldBehaviour: 'a replication target pulled the host with rsync like any server',
  },
  replicateAfterBackup: {
    id: 'replicate-after-backup',
    since: '2026-12-07',
    deprecateAfter: '2027-01-04',
    oldBehaviour: 'no replication child workflows after a backup',
  },
  drillNotify: {
    id: 'drill-notify',
    since: '2026-12-07',
    deprecateAfter: '2027-01-04',
    oldBehaviour: 'a restore drill told no notify target (state file, metrics and status only)',
  },
} as const satisfies Record<string, PatchEntry>;
