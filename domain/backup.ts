// The data that flows through a backup workflow: its input, the plan, step results and the summary.
// Only names, paths and counts: never secrets, never file lists (history payloads stay small).
import type { ExcludedPurge, GuardSettings } from './guards.js';
import type { HostStepsPlan, HostStepsSummary } from './host-steps.js';
import type { NotificationResult } from './notify.js';
import type { AdoptOptions, RetentionPolicy } from './retention.js';
import type { BlackoutSettings } from './blackout-retry.js';

/** Input of the `backupHost` workflow: which host, onto which backup server. */
export interface BackupInput {
  host: string;
  server: string;
  /** Hold the snapshot (`zfs hold tidemark-keep`) with this reason until `tidemark release`. */
  keep?: string;
  /** The operator really removed data: this run lets the shrink guard through (no --max-delete, no
   * suspect mark) and becomes the new baseline. Recorded in the history as part of the input. */
  allowShrink?: boolean;
}

/** How the transfer runs and is retried (the inventory's `transfer`; defaults in inventory/resolve.ts). */
/** A host reached through a jump host (ssh ProxyCommand), with the same key and its own known_hosts check. */
export interface JumpHost {
  address: string;
  port: number;
  user: string;
  knownHostsFile: string;
}

/** How ssh reaches a machine: Tidemark's key, the known_hosts file, and the name the machine's host key is
 * listed under there (ssh's HostKeyAlias: the inventory's host name, or a server's name for replication). */
export interface HostSsh {
  identityFile: string;
  knownHostsFile: string;
  hostKeyAlias: string;
}

export interface TransferSettings {
  /** rsync --timeout in seconds. */
  ioTimeoutSeconds: number;
  /** How soon a silent transfer (dead worker) is noticed. */
  heartbeatTimeoutMs: number;
  /** Attempts for a transfer failing on network/ssh errors, the first included. */
  attempts: number;
  /** Wait before the first retry. */
  retryIntervalMs: number;
  /** rsync --bwlimit value; absent: unlimited. */
  bandwidthLimit?: string;
  /** Allow-listed extra rsync options, "--opt=" removing a default (domain/rsync-options.ts). */
  rsyncOptions?: string[];
  /** rsync on the host runs under ionice / nice (its --rsync-path). */
  ionice?: { class: 'idle' | 'best-effort'; level?: number };
  nice?: number;
  /** transfer.checksumEvery in ms: one run in each such period compares contents (--checksum). */
  checksumEveryMs?: number;
  /** Set by planBackup: this run is the host's periodic --checksum run. */
  checksumRun?: boolean;
  /** The host's blackout windows: a retry of a host step that would start inside one waits until it ends
   * (domain/blackout-retry.ts). Absent: none. */
  blackout?: BlackoutSettings;
}

/** Everything the steps need, resolved from the server's inventory by `planBackup`. */
export interface BackupPlan {
  host: string;
  server: string;
  /** `<server dataset>/<host>`, e.g. "data/vpn". */
  dataset: string;
  source: { address: string; port: number; user: string; sudo: boolean };
  paths: string[];
  excludes: string[];
  /** controlPath: this run's OpenSSH multiplexing socket (probe, hooks and rsync share one login); absent: off. */
  ssh: HostSsh & { controlPath?: string; jumpHost?: JumpHost };
  transfer: TransferSettings;
  /** Hooks, veto, what is selected and excluded on the host (domain/host-steps.ts); absent: none of these steps. */
  hostSteps?: HostStepsPlan;
  /** PlanB-style allow-list: only these paths (relative to `root`) are copied, as rsync filter rules. */
  include?: { root: string; items: string[] };
  /** Data-safety thresholds (domain/guards.ts); absent in plans made before the guards existed. */
  guards?: GuardSettings;
  /** Copied from the input: this run may shrink the copy. */
  allowShrink?: boolean;
  /** servers.<name>.reserve in bytes or as a share of the pool: the free space a run must leave. */
  reserve?: { bytes?: number; percent?: number };
  /** hosts.<name>.quota: the host dataset's ZFS quota, e.g. "500G". */
  quota?: string;
  /** What to prune after the snapshot; absent: no pruning. */
  retention?: { policy: RetentionPolicy; adopt: AdoptOptions };
  /** Servers that take this host's copy from this one by replication after each complete snapshot. */
  replicaTargets?: string[];
  /** This server takes the host's copy from `source` by replication; it pulls only after `failoverAfterMs`
   * without a complete snapshot (activities/replica-run.ts). */
  replica?: { source: string; failoverAfterMs: number };
}

/** What `transferFiles` reports: figures from rsync --stats plus how the run ended. */
export interface TransferResult {
  outcome: 'complete' | 'partial';
  exitCode: number;
  /** Regular files whose data was sent. */
  filesTransferred: number;
  /** Files (of all kinds) in the source. */
  filesTotal: number;
  /** Size of all files in the source. Absent in results recorded before the guards existed. */
  bytesTotal?: number;
  /** File data sent (rsync's "Total transferred file size"). */
  bytesTransferred: number;
  /** Bytes that crossed the network towards the backup server. */
  bytesReceived: number;
  durationMs: number;
  /** Last lines of rsync's stderr when it complained (partial transfers). */
  warnings: string[];
  /** What the shrink guard did; absent in results recorded before the guards existed. */
  guard?: TransferGuard;
}

/** The shrink guard's part of a transfer (domain/guards.ts). */
export interface TransferGuard {
  /** The baseline snapshot compared against; absent on a first run. */
  baseline?: string;
  /** rsync --max-delete used; absent: unlimited. */
  maxDelete?: number;
  /** Mount points selected last time and missing now: their copies were protected from deletion. */
  heldMounts: string[];
  /** rsync reached --max-delete and skipped further deletions (exit 25). */
  deletionsHeld: boolean;
  /** Why the copy is suspect (drop beyond the threshold, held deletions); absent: not suspect. */
  suspect?: string;
  /** What the copy held that the run's rules newly exclude (purged as asked, outside both limits). */
  excludedPurge?: ExcludedPurge;
  /** Fingerprint of the run's filter rules, recorded on the snapshot. Absent in results recorded before. */
  filter?: string;
}

/** Live state of a transfer, sent as activity heartbeat details (shown in the Temporal UI). */
export interface TransferProgress {
  bytes: number;
  percent: number;
  filesTransferred: number;
  rate: string;
}

export type BackupPhase =
  | 'planning'
  | 'dataset'
  | 'host-check'
  | 'vetoed'
  | 'hooks'
  | 'transfer'
  | 'snapshot'
  | 'retention'
  | 'done'
  | 'failed';

/** Answer of the workflow's `progress` query. */
export interface BackupProgress {
  phase: BackupPhase;
  /** Workflow time the backup started, ISO 8601. */
  startedAt: string;
  /** While the host vetoes the run (files in its do-not-run directory): what it said and when it is asked again. */
  veto?: { files: string[]; checks: number; nextCheckAt: string };
}

/** CANCELLED: the run was cancelled; only monitoring sees it (reported as WARNING, domain/notify.ts). */
export type BackupStatus = 'SUCCESS' | 'WARNING' | 'FAILED' | 'CANCELLED';

/** What a finished backup returns (and what monitoring will be told). */
export interface BackupSummary {
  host: string;
  server: string;
  status: BackupStatus;
  dataset: string;
  snapshot: string | null;
  filesTransferred: number;
  bytesTransferred: number;
  bytesReceived: number;
  durationMs: number;
  message: string;
  /** This run compared file contents (--checksum), the host's periodic checksum run. */
  checksumRun?: boolean;
  /** Hooks, veto, selection and exclude counts (absent when the run failed before them). */
  hostSteps?: HostStepsSummary;
  /** Snapshots retention removed after this backup (names after "@"); absent when retention did not run. */
  pruned?: string[];
  /** How each monitoring target fared (notify step); absent when none is configured. */
  notifications?: NotificationResult[];
}
