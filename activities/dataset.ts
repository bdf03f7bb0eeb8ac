// Step 2, on the backup server: make sure `<dataset>/<host>` exists, is ours and is mounted where a
// backup belongs, and that the pool can take this run. Never touches data.
import { Context, log } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import type { Baseline } from '../domain/guards.js';
import { readBaseline } from '../pool/baseline.js';
import { currentBootId, leaseCreateOption } from '../pool/lease.js';
import { ownerProperty } from '../pool/owner.js';
import { openReplicaForPulls } from '../pool/replication.js';
import { replicaOriginProperty } from '../domain/replication.js';
import { judgePool, readPoolState } from '../pool/space.js';
import { keepRootOnly } from '../pool/private-mount.js';
import { zfs } from '../pool/zfs.js';
import type { BackupPlan } from '../domain/backup.js';

/** A copied setuid binary or device node must not be live on the backup server. */
const hardening = { setuid: 'off', devices: 'off', exec: 'off' } as const;

export interface EnsuredDataset {
  mountpoint: string;
  created: boolean;
  /** What the newest complete snapshot recorded (the shrink guard's reference); absent on a first run. */
  baseline?: Baseline;
  /** Run anyway, but the run ends WARNING with these (a DEGRADED pool). */
  warnings?: string[];
}

export interface EnsureOptions {
  /** servers.<name>.reserve; default 5 % of the pool. */
  reserve?: { bytes?: number; percent?: number };
  /** hosts.<name>.quota: set on the dataset at each run (the inventory is the truth). */
  quota?: string;
  /** This server replicates the host (a failover pull, the dataset already opened for it). */
  replicaTarget?: boolean;
}

/** The dataset step's options from a plan. */
export function datasetOptions(plan: Pick<BackupPlan, 'reserve' | 'quota' | 'replica'>): EnsureOptions {
  return {
    ...(plan.reserve ? { reserve: plan.reserve } : {}),
    ...(plan.quota ? { quota: plan.quota } : {}),
    ...(plan.replica ? { replicaTarget: true } : {}),
  };
}

/** Creates the dataset (and parents) when missing, checks an existing one is this host's, mounts it,
 * and checks pool health and free space; idempotent. */
export async function ensureDataset(
  dataset: string,
  host: string,
  options: EnsureOptions = {},
): Promise<EnsuredDataset> {
  let found = await readProperties(dataset);
  const created = found === undefined;
  if (created) {
    const info = Context.current().info;
    const lease = leaseCreateOption({
      workflowId: info.workflowExecution?.workflowId ?? '',
      runId: info.workflowExecution?.runId ?? '',
      attempt: 0,
      state: 'ready',
      worker: info.taskQueue,
      boot: await currentBootId(),
    });
    const settings = [
      `${ownerProperty}=${host}`,
      lease,
      ...Object.entries(hardening).map(([key, value]) => `${key}=${value}`),
    ];
    await zfs(['create', '-p', ...settings.flatMap((setting) => ['-o', setting]), dataset]);
    found = await readProperties(dataset);
  }
  if (!found) throw new Error(`dataset ${dataset} is missing right after zfs create`);
  // A replica of this host the inventory no longer replicates (replicateFrom changed): pulled from now on.
  const switched = replicaNoLongerReplicated(found.properties, host, options);
  if (switched) {
    await openReplicaForPulls(dataset, host);
    found = (await readProperties(dataset))!;
  }
  const { properties: info, parentMountpoint } = found;
  const owner = info.get(ownerProperty);
  if (owner?.source !== 'local' || owner.value !== host) {
    const who = owner?.source === 'local' ? `belongs to host "${owner.value}"` : 'was not created by Tidemark';
    throw activityFailure(
      `dataset ${dataset} already exists and ${who}; nothing was copied into it. If it really holds ${host}'s backups ` +
        `(a SOWN or PlanB dataset being switched over), adopt it on purpose: tidemark adopt-dataset --host ${host} --server SERVER`,
      'DatasetNotOurs',
    );
  }
  checkMountpoint(dataset, info.get('mountpoint')?.value ?? '', parentMountpoint);
  // Every host's copy, snapshot clone and restore clone is mounted beneath the server dataset's mountpoint.
  const privacy = parentMountpoint?.startsWith('/') ? await keepRootOnly(parentMountpoint) : undefined;
  if (options.quota) await zfs(['set', `quota=${options.quota}`, dataset]);
  // Datasets made by older versions: harden them once.
  const soft = Object.entries(hardening).filter(([key, value]) => info.get(key)?.value !== value);
  if (soft.length > 0) for (const [key, value] of soft) await zfs(['set', `${key}=${value}`, dataset]);
  if (info.get('mounted')?.value !== 'yes') await zfs(['mount', dataset]);

  const baseline = created ? undefined : await readBaseline(dataset);
  // The reserve protects the pool: a host's own quota bounds its room, not the pool's (judged on the parent).
  const judged = options.quota ? dataset.split('/').slice(0, -1).join('/') || dataset : dataset;
  const pool = judgePool(await readPoolState(judged), baseline?.written ?? 0, options.reserve ?? {});
  if (pool.refuse) throw activityFailure(pool.refuse.message, pool.refuse.type);
  // In the worker's log, not the run's status: a new server dataset starts out 0755 on every first run.
  if (privacy) log.warn(privacy);
  const warnings = [
    ...(switched
      ? [
          `the copy in ${dataset} was replicated from ${switched}; replicateFrom no longer says so, so it is pulled here from now on into the same dataset (its snapshots stay, readonly off)`,
        ]
      : []),
    ...pool.warnings,
  ];
  return {
    mountpoint: info.get('mountpoint')!.value,
    created,
    ...(baseline ? { baseline } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The source the dataset was replicated from, when it is a replica (its own tidemark:replica-of) of this
 * host (no other host owns it) and this run is not a failover on a server that still replicates the host. */
function replicaNoLongerReplicated(info: Properties, host: string, options: EnsureOptions): string | undefined {
  if (options.replicaTarget) return undefined;
  const origin = info.get(replicaOriginProperty);
  const owner = info.get(ownerProperty);
  if (origin?.source !== 'local' || origin.value === '-') return undefined;
  return owner?.source !== 'local' || owner.value === host ? origin.value : undefined;
}

/** Refuses a mountpoint where rsync --delete could hit the server's own files: "/", none, or one outside
 * the parent dataset's mountpoint. */
function checkMountpoint(dataset: string, mountpoint: string, parentMountpoint: string | undefined): void {
  const fail = (why: string) => {
    throw activityFailure(
      `dataset ${dataset} has mountpoint "${mountpoint}": ${why}; nothing was copied`,
      'DatasetNotMountable',
    );
  };
  if (!mountpoint.startsWith('/')) fail(`set one with: zfs set mountpoint=/PATH ${dataset}`);
  if (mountpoint.replace(/\/+$/, '') === '') fail('a backup is never written over the root filesystem');
  const parent = parentMountpoint?.replace(/\/+$/, '');
  if (parent?.startsWith('/') && !mountpoint.startsWith(`${parent}/`)) {
    fail(`it lies outside its parent's mountpoint ${parent}/ (zfs inherit mountpoint ${dataset})`);
  }
}

type Properties = Map<string, { value: string; source: string }>;

/** Owner, mount and hardening properties of `dataset`, and its parent's mountpoint (one zfs call); undefined
 * when the dataset does not exist. */
async function readProperties(
  dataset: string,
): Promise<{ properties: Properties; parentMountpoint: string | undefined } | undefined> {
  const parent = dataset.split('/').slice(0, -1).join('/');
  try {
    const output = await zfs([
      'get',
      '-H',
      '-o',
      'name,property,value,source',
      [ownerProperty, replicaOriginProperty, 'mountpoint', 'mounted', ...Object.keys(hardening)].join(','),
      dataset,
      ...(parent ? [parent] : []),
    ]);
    const properties: Properties = new Map();
    let parentMountpoint: string | undefined;
    for (const line of output.split('\n')) {
      const [name = '', property = '', value = '', source = ''] = line.split('\t');
      if (name === dataset && property) properties.set(property, { value, source });
      if (name === parent && property === 'mountpoint') parentMountpoint = value;
    }
    return { properties, parentMountpoint };
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}
