// The failure types Tidemark's activities raise (ApplicationFailure.type: what the Temporal UI and a run's
// message show) and, beside each, whether Temporal retries it. Activities raise them through
// `activityFailure`, so this table is the one place the retry rule is decided. A TidemarkError from the
// inventory or the command line is raised under its own code (domain/errors.ts) and never retried.
import { ActivityFailure, ApplicationFailure, type ChildWorkflowFailure } from '@temporalio/common';
import { printable } from './printable.js';

export const activityFailures = {
  // ssh and rsync
  /** The host's key is not in known_hosts (or changed): a person must check it and add it. */
  HostKeyRejected: { retry: false },
  /** known_hosts cannot take the host's key under its name (subprocess/known-hosts.ts): the worker's user must
   * be able to append to it, or the lines be added by hand. */
  KnownHostsUnwritable: { retry: false },
  /** The host refused the backup server's key: it must be installed there first. */
  SshAuthFailed: { retry: false },
  /** ssh exited 255 or was killed (connection refused, reset, timed out): the host may be back soon. */
  SshTransient: { retry: true },
  /** rsync's network, protocol and timeout exit codes (domain/rsync-exit.ts). */
  RsyncTransient: { retry: true },
  /** rsync's other exit codes: another attempt would fail the same way. */
  RsyncFailed: { retry: false },
  /** A restore could not write some files (rsync exit 23): the operator must look at them. */
  RestoreIncomplete: { retry: false },
  /** The host refused to make a fresh default restore target (unsafe restore root, filter settings too old). */
  RestoreTargetRefused: { retry: false },
  /** The plan has no host settings, or the host has no filesystem to copy: the inventory must change. */
  HostProbeFailed: { retry: false },
  /** The host probe timed out or printed nothing readable: the next attempt may get through. */
  HostProbeTransient: { retry: true },
  /** The plan has no host settings (planned by an older worker): the run must start again. */
  HookSetupFailed: { retry: false },

  // the pool and the host's dataset
  /** No space left on the pool (or the dataset's quota): space must be freed first. */
  PoolFull: { retry: false },
  /** The pool is not ONLINE: `zpool status` must be looked at. */
  PoolUnhealthy: { retry: false },
  /** The copy would eat into the pool's reserve: space must be freed or the reserve lowered. */
  PoolReserve: { retry: false },
  /** The dataset exists and is not Tidemark's for this host: `tidemark adopt-dataset` decides. */
  DatasetNotOurs: { retry: false },
  /** The dataset's mountpoint is missing or outside its parent's: rsync --delete could hit other files. */
  DatasetNotMountable: { retry: false },
  /** An earlier attempt still writes the dataset (or could not be stopped yet): it ends or is fenced. */
  DatasetBusy: { retry: true },
  /** An earlier attempt of this run woke up and took the lease: the next attempt fences it. */
  LeaseContended: { retry: true },
  /** Another run or worker took the dataset: this attempt's copy is not the one to trust. */
  LeaseLost: { retry: false },
  /** A later attempt of this run owns the dataset now: this one stands down. */
  AttemptSuperseded: { retry: false },
  /** Another run took a snapshot of the same name: the workflow picks a new name instead. */
  SnapshotNameTaken: { retry: false },

  // replication between backup servers (activities/replicate-send.ts)
  /** The send or the receive stopped midway (ssh cut, process killed): the next round starts from the common snapshot. */
  ReplicationInterrupted: { retry: true },
  /** The target's filter or zfs receive refused the stream: retrying sends the same. */
  ReplicationRefused: { retry: false },

  // notify and the inventory sync
  /** A target could not be told (down, timed out): its own retry budget decides. */
  NotifyFailed: { retry: true },
  /** A target refused what it was told (wrong password, unknown service): retrying sends the same. */
  NotifyRejected: { retry: false },
  /** The inventory or the call itself is wrong (target gone, unreadable inventory, outside a workflow). */
  NotifyConfig: { retry: false },
  /** A restore drill asked for a pair whose inventory sets no drills. */
  DrillConfig: { retry: false },
  /** NetBox is down or refusing: the sync tries again; schedules stay as they are meanwhile. */
  NetboxUnavailable: { retry: true },
} as const satisfies Record<string, { retry: boolean }>;

export type ActivityFailureType = keyof typeof activityFailures;

/** The failure types Temporal does not retry. */
export type NonRetryableFailure = {
  [Type in ActivityFailureType]: (typeof activityFailures)[Type]['retry'] extends false ? Type : never;
}[ActivityFailureType];

/** The ApplicationFailure an activity throws for `type`, retryable as the table says. */
export function activityFailure(message: string, type: ActivityFailureType, ...details: unknown[]): ApplicationFailure {
  // Messages carry host-made text (rsync, ssh, hook output): shown, never obeyed by a terminal.
  return ApplicationFailure.create({
    type,
    message: printable(message),
    nonRetryable: !activityFailures[type].retry,
    details,
  });
}

/** The transfer activity's failures that its retry policy lists as not retryable (also when an SDK
 * wrapper loses the nonRetryable flag). */
export const fatalTransferErrors = [
  'HostKeyRejected',
  'SshAuthFailed',
  'RsyncFailed',
  'PoolFull',
  'LeaseLost',
] as const satisfies readonly NonRetryableFailure[];

/** The failure inside the SDK's wrappers (ActivityFailure, or the `wrapper` given): the activity's or the
 * child workflow's own error, whose message says what went wrong. */
export function innermostCause(
  error: unknown,
  wrapper: typeof ActivityFailure | typeof ChildWorkflowFailure = ActivityFailure,
): unknown {
  let cause = error;
  while (cause instanceof wrapper && cause.cause) cause = cause.cause;
  return cause;
}
