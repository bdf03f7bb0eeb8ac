// What a restore may write, decided by this worker's inventory and not by the restoreHost input: local
// targets only under `servers.<name>.restore.roots` (default /var/lib/tidemark/restore), checked after
// resolving symlinks; a live system ("/") only when `servers.<name>.restore.overwriteLiveSystem` allows
// it and the operator asked for it. The restore steps after planning re-plan from the input's names.
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { isLiveSystemDir, type OpenedSnapshot, type RestoreInput, type RestorePlan } from '../domain/restore.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { serverEntry } from '../inventory/resolve.js';
import { datasetInfo } from '../pool/zfs.js';
import { filesUnder } from '../pool/snapshot-reader.js';
import { planRestore, runIdentity } from './restore.js';
import {
  absolutePathField,
  nameField,
  ownServer,
  record,
  stringList,
  refuseInput,
  type WorkerScope,
} from './worker-policy.js';

export const defaultRestoreRoots = ['/var/lib/tidemark/restore'];

export interface RestorePolicy {
  roots: string[];
  overwriteLiveSystem: boolean;
}

export async function restorePolicy(scope: WorkerScope): Promise<RestorePolicy> {
  const entry = serverEntry((await keptInventory(scope.inventoryPath).read()).inventory, scope.server)?.restore;
  return { roots: entry?.roots ?? defaultRestoreRoots, overwriteLiveSystem: entry?.overwriteLiveSystem ?? false };
}

/** `dir` with its existing part's symlinks resolved ("/tmp/.." is "/"; a planted link shows as its target). */
async function resolvedDirectory(dir: string): Promise<string> {
  const parts = dir.split('/').filter(Boolean);
  for (let keep = parts.length; keep >= 0; keep--) {
    const existing = `/${parts.slice(0, keep).join('/')}`;
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) return join(real, ...parts.slice(keep));
  }
  return '/';
}

/** Why this worker will not write restored files into local directory `dir`, or undefined. */
export async function localTargetProblem(
  dir: string,
  policy: RestorePolicy,
  asked: boolean,
  dryRun = false,
): Promise<string | undefined> {
  const lexical = `/${dir.split('/').filter(Boolean).join('/')}`;
  if (dir.split('/').some((part) => part === '..')) return `--to ${dir}: ".." is not allowed in a restore target`;
  const resolved = await resolvedDirectory(dir);
  if (resolved !== lexical) return `--to ${dir}: it leads through a symlink to ${resolved}; give the real directory`;
  if (isLiveSystemDir(resolved)) {
    if ((policy.overwriteLiveSystem && asked) || dryRun) return undefined;
    return `--to ${dir}: writing over the backup server's live system needs servers.<name>.restore.overwriteLiveSystem: true in its inventory and --yes-overwrite-live-system`;
  }
  for (const root of policy.roots) {
    const base = await resolvedDirectory(root);
    if (resolved === base || resolved.startsWith(`${base}/`)) return undefined;
  }
  return `--to ${dir}: not under this server's restore roots (${policy.roots.join(', ')}); choose a directory there or add one to servers.<name>.restore.roots`;
}

/** A host target writes over that host's live system only when the server's policy allows it. */
export function hostTargetProblem(
  dir: string,
  policy: RestorePolicy,
  asked: boolean,
  dryRun = false,
): string | undefined {
  if (!isLiveSystemDir(dir) && !dir.split('/').includes('..')) return undefined;
  if (dir.split('/').includes('..')) return `--target-dir ${dir}: ".." is not allowed`;
  if ((policy.overwriteLiveSystem && asked) || dryRun) return undefined;
  return `--target-dir ${dir}: writing over a host's live system needs servers.<name>.restore.overwriteLiveSystem: true in the backup server's inventory and --yes-overwrite-live-system`;
}

/** A restoreHost input, type-checked field by field. */
export function restoreInputOf(scope: WorkerScope, value: unknown): RestoreInput {
  const input = record(value, 'restoreHost input');
  nameField(input.host, 'host');
  ownServer(scope, input.server, 'server');
  if (
    input.snapshot !== undefined &&
    (typeof input.snapshot !== 'string' || !/^[A-Za-z0-9._:-]{1,200}$/.test(input.snapshot))
  )
    refuseInput('snapshot must be a snapshot name or "latest"');
  if (input.at !== undefined && typeof input.at !== 'string') refuseInput('at must be an ISO 8601 time');
  stringList(input.paths, 'paths', 10_000).forEach((path, index) => absolutePathField(path, `paths[${index}]`));
  const to = record(input.to, 'to');
  if (to.kind === 'local') absolutePathField(to.dir, 'to.dir');
  else if (to.kind === 'host') {
    nameField(to.host, 'to.host');
    if (to.dir !== undefined) absolutePathField(to.dir, 'to.dir');
  } else refuseInput('to.kind must be "local" or "host"');
  for (const flag of ['dryRun', 'overwriteLiveSystem', 'specialFiles'] as const)
    if (input[flag] !== undefined && typeof input[flag] !== 'boolean') refuseInput(`${flag} must be true or false`);
  if (
    input.bandwidthLimit !== undefined &&
    (typeof input.bandwidthLimit !== 'string' || !/^\d{1,12}(\.\d{1,3})?[KMGkmg]?$/.test(input.bandwidthLimit))
  )
    refuseInput('bandwidthLimit must be a number of KiB/s, optionally with K, M or G');
  return input as unknown as RestoreInput;
}

/** Plans the restore and checks its target against this server's policy. */
export async function plannedRestore(scope: WorkerScope, value: unknown): Promise<RestorePlan> {
  const input = restoreInputOf(scope, value);
  const plan = await planRestore(scope.inventoryPath, input);
  const policy = await restorePolicy(scope);
  const asked = input.overwriteLiveSystem === true;
  const problem =
    plan.target.kind === 'local'
      ? await localTargetProblem(plan.target.dir, policy, asked, plan.dryRun)
      : hostTargetProblem(plan.target.dir, policy, asked, plan.dryRun);
  if (problem) refuseInput(problem, 'USAGE');
  return plan;
}

/** The plan a later restore step acts on: planned again from the names in `value`, with the same snapshot. */
export async function trustedRestorePlan(scope: WorkerScope, value: unknown): Promise<RestorePlan> {
  const plan = record(value, 'restore plan');
  const target = record(plan.target, 'restore plan target');
  const dir = absolutePathField(target.dir, 'target.dir');
  const live = isLiveSystemDir(dir);
  return plannedRestore(scope, {
    host: plan.host,
    server: plan.server,
    snapshot: plan.snapshot,
    paths: plan.paths,
    to: target.kind === 'local' ? { kind: 'local', dir } : { kind: 'host', host: target.host, dir },
    ...(plan.dryRun !== undefined ? { dryRun: plan.dryRun } : {}),
    ...(plan.bandwidthLimit !== undefined ? { bandwidthLimit: plan.bandwidthLimit } : {}),
    ...(plan.specialFiles !== undefined ? { specialFiles: plan.specialFiles } : {}),
    // The plan exists, so the operator's request for "/" passed planning; the policy is checked again.
    ...(live ? { overwriteLiveSystem: true } : {}),
  });
}

/** The view the open step made for this run (its clone, or the snapshot's .zfs directory); the input's
 * view must be that one. */
export async function trustedView(plan: RestorePlan, value: unknown): Promise<OpenedSnapshot> {
  const view = record(value, 'view');
  const { clone } = runIdentity(plan);
  const cloned = await datasetInfo(clone);
  // An adopted PlanB snapshot holds its files under data/ (pool/snapshot-reader.ts).
  const under = await filesUnder(plan.dataset, plan.snapshot);
  let expected: OpenedSnapshot | undefined;
  if (cloned?.mounted) expected = { root: join(cloned.mountpoint, under), clone };
  else {
    const info = await datasetInfo(plan.dataset);
    const visible = info?.mounted ? join(info.mountpoint, '.zfs', 'snapshot', plan.snapshot) : undefined;
    if (visible && existsSync(visible)) expected = { root: join(visible, under) };
  }
  if (!expected || view.root !== expected.root)
    refuseInput(
      `view.root ${JSON.stringify(view.root)} is not the snapshot this run opened (${expected?.root ?? 'none open'})`,
    );
  return expected;
}
