// The benchmark's direct runs, one host at a time, no Temporal:
//  - bare:  Tidemark's own rsync command (domain/rsync-args.ts, plan from activities/plan.ts) + zfs snapshot;
//  - sown:  SOWN backup's rsync invocation;
//  - planb: PlanB's rsync invocation (without --bwlimit=10M).
// Each per-host time covers `zfs create -p` (idempotent dataset step), rsync and `zfs snapshot`.
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { planBackup } from '../activities/plan.js';
import type { BackupPlan } from '../domain/backup.js';
import { zfs } from '../pool/zfs.js';
import { rsyncArgs } from '../domain/rsync-args.js';
import { snapshotName } from '../domain/names.js';
import { parseStats } from '../domain/rsync-output.js';
import type { Fleet, FleetHost } from './fleet.js';

export interface HostRun {
  host: string;
  /** Wall time of this host's backup, ms. */
  ms: number;
  /** Bytes that crossed the network towards the backup server (rsync "Total bytes received"). */
  bytesReceived: number;
  /** Bytes the backup server sent to the host (file list requests, checksums); undefined when unknown. */
  bytesSent?: number;
  /** File data rsync sent ("Total transferred file size"). */
  bytesTransferred: number;
  filesTransferred: number;
  /** Time of each step, ms: zfsCreate/rsync/zfsSnapshot for direct runs; for Tidemark runs each activity
   * (scheduled → completed, from the workflow history), `dispatch` (sum of scheduled → started), `workflow`
   * (first → last history event) and `betweenSteps` (workflow minus activities). */
  steps?: Record<string, number>;
  /** Tidemark runs: the workflow's own durationMs. */
  workflowMs?: number;
}

export interface DirectContext {
  fleet: Fleet;
  inventoryPath: string;
  /** Inventory server whose dataset holds the bare copies. */
  bareServer: string;
  /** Parent dataset of the reference systems' copies (`<root>/sown/<host>`, `<root>/planb/<host>`). */
  datasetRoot: string;
  /** Mountpoint of `datasetRoot`'s pool root, for computing child mountpoints without asking zfs. */
  mountpointOf(dataset: string): string;
}

/** SOWN's standard excludes, sent on stdin (--exclude-from=-). */
const sownExcludes = '/var/log/journal/\n/swap.img\n';

/** PlanB's default include allow-list, expanded as PlanB does (parents with "/", dirs with "/***"). */
export const planbIncludes = (() => {
  const defaults =
    'data etc home root srv usr/local/bin var/backups var/lib/dpkg/status* var/log/auth* var/spool/cron var/www'.split(
      ' ',
    );
  const list = new Set<string>();
  for (const include of defaults) {
    const parts = include.split('/');
    for (let i = 1; i < parts.length; i++) list.add(`${parts.slice(0, i).join('/')}/`);
    list.add(include.includes('*') ? include : `${include}/***`);
  }
  return [...list].sort().map((pattern) => `--include=${pattern}`);
})();

/** rsync exit codes after which the bench takes the snapshot: 0 (ok) and 24 (files vanished while read). */
function checkExit(method: string, host: string, result: { exitCode?: number; stderr: unknown }): void {
  if (result.exitCode === 0 || result.exitCode === 24) return;
  throw new Error(
    `${method} rsync of ${host} exited ${result.exitCode ?? 'by signal'}: ${String(result.stderr).slice(-2000)}`,
  );
}

/** One direct run of `method` for `host`, each step timed: `zfs create -p`, rsync with `args` (`input` on
 * its stdin), and `zfs snapshot` when the copy is usable. */
async function directRun(
  method: string,
  host: FleetHost,
  dataset: string,
  args: string[],
  snapshot: string,
  input?: string,
): Promise<HostRun> {
  const t0 = performance.now();
  await zfs(['create', '-p', dataset]);
  const t1 = performance.now();
  const result = await execa('rsync', args, {
    reject: false,
    maxBuffer: 256 * 1024 * 1024,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  const t2 = performance.now();
  checkExit(method, host.name, result);
  await zfs(['snapshot', `${dataset}@${snapshot}`]);
  const t3 = performance.now();
  return hostRun(host.name, t3 - t0, result.stdout, { zfsCreate: t1 - t0, rsync: t2 - t1, zfsSnapshot: t3 - t2 });
}

function hostRun(host: string, ms: number, stdout: string, steps: Record<string, number>): HostRun {
  const stats = parseStats(stdout);
  const sent = /^Total bytes sent: ([\d,]+)/m.exec(stdout)?.[1];
  return {
    host,
    ms,
    steps,
    bytesReceived: stats.bytesReceived,
    bytesSent: sent === undefined ? undefined : Number(sent.replace(/,/g, '')),
    bytesTransferred: stats.bytesTransferred,
    filesTransferred: stats.filesTransferred,
  };
}

/**
 * The plan Tidemark's planBackup activity makes for `host` on the bare server (made before timing), without
 * ssh multiplexing: a cron loop's rsync logs in once per run. (With the plan's control path, reused by every
 * workload, the first bare rsync would leave a master behind and later bare runs would skip their login.)
 */
export async function barePlan(context: DirectContext, host: FleetHost): Promise<BackupPlan> {
  const plan = await planBackup(context.inventoryPath, { host: host.name, server: context.bareServer });
  const { controlPath: _unused, ...ssh } = plan.ssh;
  return { ...plan, ssh };
}

/** Tidemark's rsync command and snapshot, without Temporal. */
export function runBare(context: DirectContext, host: FleetHost, plan: BackupPlan): Promise<HostRun> {
  return directRun(
    'bare',
    host,
    plan.dataset,
    rsyncArgs(plan, context.mountpointOf(plan.dataset)),
    snapshotName(new Date()),
  );
}

/** Tidemark's command without --acls and --xattrs: shows what ACL/xattr fidelity costs (the reference
 * systems copy neither), separately from the other flag choices (cipher, no compression, --inplace). */
export function runBareWithoutMetadata(
  context: DirectContext,
  host: FleetHost,
  plan: BackupPlan,
  tag: string,
): Promise<HostRun> {
  const dataset = `${context.datasetRoot}/nometa/${host.name}`;
  const args = rsyncArgs(plan, context.mountpointOf(dataset)).filter((arg) => arg !== '--acls' && arg !== '--xattrs');
  return directRun('bare-nometa', host, dataset, args, `nometa-${tag}-${Date.now()}`);
}

/** SOWN: `rsync -e "ssh -o 'StrictHostKeyChecking yes'" --compress --one-file-system --numeric-ids --quiet
 * --archive --delete --delete-excluded --exclude-from=- HOST:/ /data/HOST/`, adapted: the loopback host's
 * port, key and known_hosts go into -e, the source is the host's tree, and --stats replaces --quiet
 * (which would hide the byte counts; it changes only what rsync prints). */
export function sownArgs(fleet: Fleet, host: FleetHost, destination: string): string[] {
  const rsh = `ssh -p ${host.ssh.port} -i ${fleet.identityFile} -o IdentitiesOnly=yes -o UserKnownHostsFile=${fleet.knownHostsFile} -o 'StrictHostKeyChecking yes'`;
  return [
    '-e',
    rsh,
    '--compress',
    '--one-file-system',
    '--numeric-ids',
    '--stats',
    '--archive',
    '--delete',
    '--delete-excluded',
    '--exclude-from=-',
    `root@${host.ssh.address}:${host.source}/`,
    `${destination}/`,
  ];
}

export function runSown(context: DirectContext, host: FleetHost, tag: string): Promise<HostRun> {
  const dataset = `${context.datasetRoot}/sown/${host.name}`;
  const snapshot = `backup-daily-${new Date().toISOString().slice(0, 10)}-${tag}`;
  return directRun(
    'sown',
    host,
    dataset,
    sownArgs(context.fleet, host, context.mountpointOf(dataset)),
    snapshot,
    sownExcludes,
  );
}

/** PlanB: its flag set with the default include allow-list, minus --bwlimit=10M (a 10 MB/s cap would
 * measure the cap, not the tool), and `ionice -c2 -n7 rsync` as rsync path (no sudo: we log in as root). */
export function planbArgs(fleet: Fleet, host: FleetHost, destination: string): string[] {
  return [
    '--delete',
    '--stats',
    '--recursive',
    '--links',
    '--perms',
    '--times',
    '--devices',
    '--specials',
    '--block-size=131072',
    '--whole-file',
    '--chmod=Du+rx',
    ...planbIncludes,
    '--exclude=*',
    `--rsh=ssh -p ${host.ssh.port} -i ${fleet.identityFile} -o IdentitiesOnly=yes -o HashKnownHosts=no -o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes`,
    '--rsync-path=ionice -c2 -n7 rsync',
    `root@${host.ssh.address}:${host.source}/`,
    `${destination}/data`,
  ];
}

export function runPlanb(context: DirectContext, host: FleetHost, tag: string): Promise<HostRun> {
  const dataset = `${context.datasetRoot}/planb/${host.name}`;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
  return directRun(
    'planb',
    host,
    dataset,
    planbArgs(context.fleet, host, context.mountpointOf(dataset)),
    `planb-${stamp}Z-${tag}`,
  );
}
