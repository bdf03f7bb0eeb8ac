// The activities a backup server's worker registers, bound to that worker's inventory file, server and
// logger. The worker imports activities/ through this file only. Every input is a request checked by
// worker-policy.ts / restore-policy.ts: names in, everything executable from this worker's own inventory.
import type { Baseline } from '../domain/guards.js';
import { planRetention } from '../domain/retention.js';
import { readBaseline } from '../pool/baseline.js';
import type { PruneRequest } from '../pool/prune.js';
import { datasetInfo, listSnapshots } from '../pool/zfs.js';
import { datasetOptions, ensureDataset } from './dataset.js';
import { runHostHooks, runServerHook } from './hooks.js';
import { probeHost } from './host-probe.js';
import { createNotifyActivities } from './notify.js';
import { planBackup } from './plan.js';
import { planAndEnsureDataset } from './plan-dataset.js';
import { logRunStart, type RunLog } from './run-log.js';
import { pruneSnapshots } from './prune.js';
import { activityRun, closeRestoreSnapshot, openRestoreSnapshot, restoreFiles } from './restore.js';
import { inTransferSlot } from './transfer-slots.js';
import { plannedRestore, trustedRestorePlan, trustedView } from './restore-policy.js';
import { takeSnapshot } from './snapshot.js';
import { snapshotAndPrune, type RetentionRequest } from './snapshot-and-prune.js';
import { transferFiles } from './transfer.js';
import { outsideBlackout } from './blackout-retry.js';
import {
  backupInputOf,
  hookFacts,
  checkedHostDataset,
  keepField,
  nameField,
  record as recordField,
  recordedProperties,
  refuseInput,
  replicaInputOf,
  replicaSnapshotsField,
  resumeTokenField,
  snapshotNameField,
  trustedBackupPlan,
  trustedServerHook,
  type WorkerScope,
  zfsSnapshotNameField,
} from './worker-policy.js';
import { sendReplica } from './replicate-send.js';
import { readServerFacts } from './server-facts.js';
import { runRestoreDrill } from './restore-drill.js';
import {
  readFindMatches,
  readHostFacts,
  readPathHistory,
  readSnapshotFileChunk,
  readSnapshotFiles,
} from './host-facts.js';
import { finishReplicaTarget, prepareReplicaTarget, setAsideDivergedTarget } from './replicate-target.js';

export { createControlActivities } from './sync-inventory.js';

export interface ActivityDeps extends WorkerScope {
  /** Where the run-start (plan step) and run-end (notify step) lines go. */
  log: RunLog;
}

/** Activities keyed by the names workflows call them by. Signatures are unchanged (recorded histories and
 * running workflows still call them so); what the arguments may ask for is checked here. */
export function createActivities(deps: ActivityDeps) {
  const scope: WorkerScope = { inventoryPath: deps.inventoryPath, server: deps.server };
  /** The host's plan as this worker makes it, for the dataset steps (reserve, retention, guards). */
  const planOf = async (dataset: unknown) => {
    const { host } = await checkedHostDataset(scope, dataset);
    return planBackup(scope.inventoryPath, { host, server: scope.server });
  };
  return {
    planBackup: (input: unknown) => {
      const checked = backupInputOf(scope, input);
      logRunStart(deps.log, checked);
      return planBackup(deps.inventoryPath, checked);
    },
    // The reserve comes from the inventory, not from the input's options.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- kept in the signature for the workflows' calls
    ensureDataset: async (dataset: unknown, host: unknown, _options?: unknown) => {
      const plan = await planOf(dataset);
      if (nameField(host, 'host') !== plan.host) refuseInput(`host "${String(host)}" does not own ${plan.dataset}`);
      return ensureDataset(plan.dataset, plan.host, datasetOptions(plan));
    },
    // planBackup and ensureDataset in one round trip (runs since the 'one-step-plan' patch).
    planAndEnsureDataset: (input: unknown) => {
      const checked = backupInputOf(scope, input);
      logRunStart(deps.log, checked);
      return planAndEnsureDataset(deps.inventoryPath, checked, (message) =>
        deps.log.info({ event: 'host-key-name', host: checked.host, server: checked.server }, message),
      );
    },
    // Host steps: a retry that would start inside the host's blackout window waits for its end.
    probeHost: async (plan: unknown) => {
      const trusted = await trustedBackupPlan(scope, plan);
      return outsideBlackout(trusted, () => probeHost(trusted));
    },
    runHostHooks: async (plan: unknown) => {
      const trusted = await trustedBackupPlan(scope, plan);
      return outsideBlackout(trusted, () => runHostHooks(trusted));
    },
    // The timeout is the inventory's (servers.<name>.hooks.timeout).
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- kept in the signature for the workflows' calls
    runServerHook: async (script: unknown, env: unknown, _timeoutMs?: unknown) => {
      const hook = await trustedServerHook(scope, script);
      return runServerHook(hook.script, hookFacts(env), hook.timeoutMs);
    },
    // The destination and the shrink guard's baseline are read from the pool, not taken from the input.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- kept in the signature for the workflows' calls
    transferFiles: async (plan: unknown, destination: unknown, _baseline?: Baseline) => {
      const trusted = await trustedBackupPlan(scope, plan);
      const info = await datasetInfo(trusted.dataset);
      if (!info?.mounted) refuseInput(`${trusted.dataset} is not mounted: the dataset step prepares it`);
      if (typeof destination === 'string' && destination.replace(/\/+$/, '') !== info.mountpoint)
        refuseInput(`destination ${JSON.stringify(destination)} is not ${trusted.dataset}'s mountpoint`);
      const baseline = await readBaseline(trusted.dataset);
      return outsideBlackout(trusted, () =>
        inTransferSlot(scope, () => transferFiles(trusted, info.mountpoint, baseline)),
      );
    },
    takeSnapshot: async (dataset: unknown, name: unknown, keep?: unknown, recorded?: unknown) => {
      const { dataset: checked } = await checkedHostDataset(scope, dataset);
      return takeSnapshot(checked, snapshotNameField(name), keepField(keep), recordedProperties(recorded));
    },
    listSnapshots: async (dataset: unknown) => listSnapshots((await checkedHostDataset(scope, dataset)).dataset),
    // Destroys only what this worker's own retention plan also names, judged with its own policy.
    pruneSnapshots: async (request: PruneRequest) => {
      const plan = await planOf(record(request).dataset);
      const retention = retentionOf(plan);
      if (!retention) return { destroyed: [], alreadyGone: [], refused: [] };
      const succeeded = request.safety?.backupSucceeded === true;
      const own = planRetention({
        snapshots: await listSnapshots(plan.dataset),
        policy: retention.policy,
        now: Date.now(),
        backupSucceeded: succeeded,
        adopt: retention.adopt,
        ...(retention.anomalyCap === undefined ? {} : { anomalyCap: retention.anomalyCap }),
      });
      const asked = new Set(Array.isArray(request.plan?.destroy) ? request.plan.destroy : []);
      return pruneSnapshots({
        dataset: plan.dataset,
        plan: { ...own, destroy: own.destroy.filter((name) => asked.has(name)) },
        safety: {
          timeZone: retention.policy.timeZone,
          adopt: retention.adopt,
          backupSucceeded: succeeded,
          ...(retention.anomalyCap === undefined ? {} : { anomalyCap: retention.anomalyCap }),
        },
      });
    },
    // takeSnapshot, listSnapshots and pruneSnapshots in one round trip (since the 'snapshot-with-retention'
    // patch). The input only says whether to prune; the policy is this worker's.
    snapshotAndPrune: async (
      dataset: unknown,
      name: unknown,
      keep: unknown,
      recorded: unknown,
      retention?: unknown,
    ) => {
      const plan = await planOf(dataset);
      const own = retention ? retentionOf(plan) : undefined;
      return snapshotAndPrune(
        plan.dataset,
        snapshotNameField(name),
        keepField(keep),
        recordedProperties(recorded),
        own,
      );
    },
    // restoreHost's steps (activities/restore.ts); restoreFiles runs on the transfer queue.
    planRestore: (input: unknown) => plannedRestore(scope, input),
    openRestoreSnapshot: async (plan: unknown) => openRestoreSnapshot(await trustedRestorePlan(scope, plan)),
    restoreFiles: async (plan: unknown, view: unknown) => {
      const trusted = await trustedRestorePlan(scope, plan);
      const opened = await trustedView(trusted, view);
      const say = (message: string) =>
        deps.log.info(
          {
            event: 'host-key-name',
            host: trusted.target.kind === 'host' ? trusted.target.host : trusted.host,
            server: scope.server,
          },
          message,
        );
      return inTransferSlot(scope, () => restoreFiles(trusted, opened, activityRun(say)));
    },
    closeRestoreSnapshot: async (plan: unknown) => closeRestoreSnapshot(await trustedRestorePlan(scope, plan)),
    // replicateHost's steps: the target's on its server queue, the send on the source's transfer queue. Each
    // acts only for this worker's own side of the pair; the rest comes from this worker's inventory.
    prepareReplicaTarget: (input: unknown) =>
      prepareReplicaTarget(deps.inventoryPath, replicaInputOf(scope, input, 'target')),
    sendReplica: (request: unknown) => {
      const fields = recordField(request, 'sendReplica input');
      const resumeToken = resumeTokenField(fields.resumeToken);
      const send = {
        ...replicaInputOf(scope, request, 'source'),
        targetSnapshots: replicaSnapshotsField(fields.targetSnapshots),
        resumable: fields.resumable === true,
        ...(resumeToken ? { resumeToken } : {}),
      };
      return inTransferSlot(scope, () =>
        sendReplica(deps.inventoryPath, send, (message) =>
          deps.log.info({ event: 'host-key-name', host: send.host, server: scope.server }, message),
        ),
      );
    },
    finishReplicaTarget: (input: unknown) => {
      const { after, bytesSent } = recordField(input, 'finishReplicaTarget input');
      return finishReplicaTarget(deps.inventoryPath, {
        ...replicaInputOf(scope, input, 'target'),
        after: after === null ? null : zfsSnapshotNameField(after, 'after'),
        // A figure for the metrics only: anything but a byte count is left out.
        ...(Number.isSafeInteger(bytesSent) && (bytesSent as number) >= 0 ? { bytesSent: bytesSent as number } : {}),
      });
    },
    setAsideDiverged: (input: unknown) => {
      const common = recordField(input, 'setAsideDiverged input').common;
      return setAsideDivergedTarget(deps.inventoryPath, {
        ...replicaInputOf(scope, input, 'target'),
        ...(common === undefined ? {} : { common: zfsSnapshotNameField(common, 'common') }),
      });
    },
    // The web console's pool facts: this server's host datasets and sizes (no input).
    readServerFacts: () => readServerFacts(deps.inventoryPath, deps.server),
    // restoreDrill's one step: verify of a host of this worker's, with this worker's inventory settings.
    runRestoreDrill: (input: unknown) =>
      runRestoreDrill(
        deps.inventoryPath,
        deps.server,
        nameField(recordField(input, 'runRestoreDrill input').host, 'host'),
      ),
    // The host page's snapshots on this server, as `tidemark snapshots` shows them.
    readHostFacts: (input: unknown) =>
      readHostFacts(deps.inventoryPath, deps.server, nameField(recordField(input, 'readHostFacts input').host, 'host')),
    // The console's browser: one directory of a snapshot, as `tidemark files` lists it.
    readSnapshotFiles: (input: unknown) => {
      const fields = recordField(input, 'readSnapshotFiles input');
      return readSnapshotFiles(deps.inventoryPath, deps.server, {
        host: nameField(fields.host, 'host'),
        ...(fields.snapshot === undefined ? {} : { snapshot: textField(fields.snapshot, 'snapshot') }),
        path: textField(fields.path, 'path'),
      });
    },
    // The console's history page: which snapshots hold a path.
    readPathHistory: (input: unknown) => {
      const fields = recordField(input, 'readPathHistory input');
      return readPathHistory(deps.inventoryPath, deps.server, {
        host: nameField(fields.host, 'host'),
        path: textField(fields.path, 'path'),
      });
    },
    // The console's find: a glob across the host's snapshots.
    readFindMatches: (input: unknown) => {
      const fields = recordField(input, 'readFindMatches input');
      return readFindMatches(deps.inventoryPath, deps.server, {
        host: nameField(fields.host, 'host'),
        pattern: textField(fields.pattern, 'pattern'),
        ignoreCase: fields.ignoreCase === true,
      });
    },
    // The console's download: one piece of a regular file of a snapshot.
    readSnapshotFileChunk: (input: unknown) => {
      const fields = recordField(input, 'readSnapshotFileChunk input');
      if (typeof fields.offset !== 'number' || !Number.isSafeInteger(fields.offset) || fields.offset < 0)
        refuseInput('offset must be a whole number of bytes, 0 or more');
      return readSnapshotFileChunk(deps.inventoryPath, deps.server, {
        host: nameField(fields.host, 'host'),
        snapshot: textField(fields.snapshot, 'snapshot'),
        path: textField(fields.path, 'path'),
        offset: fields.offset,
      });
    },
    // notifyStart, recordOutcome, notifyTarget, drillTargets, notifyDrillTarget (activities/notify.ts)
    ...createNotifyActivities(deps.inventoryPath, deps.log),
  };
}

/** A snapshot name or a host's path as the console sends it: a string, bounded, without NUL. */
function textField(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 4096 || value.includes('\0'))
    refuseInput(`${field} must be a string of at most 4096 characters without NUL`);
  return value;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** The retention a run of this plan prunes with (as workflows/retention.ts asks for it). */
function retentionOf(plan: Awaited<ReturnType<typeof planBackup>>): RetentionRequest | undefined {
  if (!plan.retention) return undefined;
  const anomalyCap = plan.guards?.maxAnomalySnapshots;
  return { ...plan.retention, ...(anomalyCap === undefined ? {} : { anomalyCap }) };
}

export type Activities = ReturnType<typeof createActivities>;

// `tidemark restore --offline`: the restore steps above, in the CLI's process without Temporal.
export { OfflineRestoreFailure, restoreOffline } from './restore-offline.js';
