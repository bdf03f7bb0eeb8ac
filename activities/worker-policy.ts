// What an activity's input may ask of this worker. Anyone who can use the Temporal namespace can schedule
// any activity with any input, so the input is only a request: it names a host, a server, a snapshot and
// a run's own findings (the probed paths, the merged excludes); everything executable (addresses, users,
// keys, scripts, datasets, flags, targets) comes from this worker's own inventory, re-read here. A request
// this worker would not make itself fails the activity (non-retryable), having run nothing.
import { basename, dirname } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { BackupPlan } from '../domain/backup.js';
import { TidemarkError } from '../domain/errors.js';
import { snapshotProperties } from '../domain/guards.js';
import { keepReasonProblem } from '../domain/keep.js';
import { isUnder, normalizePath } from '../domain/mounts.js';
import { hostDataset, parseSnapshotName } from '../domain/names.js';
import { firstControlCharacter } from '../inventory/field-rules.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveHost, resolveServer, resolveServerHooks } from '../inventory/resolve.js';
import { inventoryWithHosts } from '../inventory/host-lookup.js';
import { planBackup } from './plan.js';

/** The worker an activity runs on: its inventory file and the one server it serves. */
export interface WorkerScope {
  inventoryPath: string;
  server: string;
}

/** Failure type of an activity input this worker refuses. */
export const inputRefused = 'ActivityInputRefused';

/** Fails the activity without retries; `type` USAGE for a restore request the CLI should report as such. */
export function refuseInput(message: string, type: string = inputRefused): never {
  throw ApplicationFailure.nonRetryable(type === inputRefused ? `refused activity input: ${message}` : message, type);
}

/** Host, server and dataset names: no path separators, no option-like or control characters. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export function nameField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !namePattern.test(value))
    refuseInput(`${field} must be a name (letters, digits, . _ -), got ${describe(value)}`);
  return value;
}

/** The input's server must be this worker's own. */
export function ownServer(scope: WorkerScope, value: unknown, field: string): string {
  const server = nameField(value, field);
  if (server !== scope.server)
    refuseInput(`${field} "${server}" is not this worker's server "${scope.server}": each server acts for itself only`);
  return server;
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    refuseInput(`${field} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function stringList(value: unknown, field: string, maxItems: number, maxChars = 4096): string[] {
  if (!Array.isArray(value) || value.length > maxItems)
    refuseInput(`${field} must be a list of at most ${maxItems} strings, got ${describe(value)}`);
  for (const item of value) {
    if (typeof item !== 'string' || item.length > maxChars) refuseInput(`${field} holds ${describe(item)}`);
    const control = firstControlCharacter(item);
    if (control) refuseInput(`${field} holds a control character (${control})`);
  }
  return value as string[];
}

/** An absolute path without "..", "." or control characters. */
export function absolutePathField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 4096)
    refuseInput(`${field} must be an absolute path, got ${describe(value)}`);
  const control = firstControlCharacter(value);
  if (control) refuseInput(`${field} holds a control character (${control})`);
  if (value.split('/').some((part) => part === '..' || part === '.'))
    refuseInput(`${field} may not contain "." or ".."`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  return Array.isArray(value) ? `a list of ${value.length}` : value === null ? 'null' : typeof value;
}

/** planBackup's inventory failures become non-retryable failures naming the field (as planBackup's own). */
async function fromInventory<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, error.code);
    throw error;
  }
}

/** A backupHost input: host and server names, and the operator's two run options (--keep, --allow-shrink).
 * Both options only ever keep more: a keep reason holds a snapshot, allowShrink lets one run's copy follow
 * deletions on the host while every earlier snapshot stays as it was. */
export function backupInputOf(scope: WorkerScope, value: unknown): BackupInputRequest {
  const input = record(value, 'backupHost input');
  nameField(input.host, 'host');
  ownServer(scope, input.server, 'server');
  if (input.keep !== undefined && typeof input.keep !== 'string')
    refuseInput(`keep must be a string, got ${describe(input.keep)}`);
  if (input.allowShrink !== undefined && typeof input.allowShrink !== 'boolean')
    refuseInput(`allowShrink must be true or false, got ${describe(input.allowShrink)}`);
  return input as unknown as BackupInputRequest;
}
type BackupInputRequest = { host: string; server: string; keep?: string; allowShrink?: boolean };

/**
 * The plan an activity acts on: made again from this worker's inventory for the input's host. From the
 * input only the run's own findings are taken, each checked: the probed paths (the inventory's, or mounts
 * under the selection root), the merged exclude patterns (rsync filter lines without control characters),
 * the run's ssh control socket (a hex name in the inventory's control folder) and allowShrink.
 */
export async function trustedBackupPlan(scope: WorkerScope, value: unknown): Promise<BackupPlan> {
  const input = record(value, 'plan');
  const host = nameField(input.host, 'plan.host');
  const server = ownServer(scope, input.server, 'plan.server');
  if (input.allowShrink !== undefined && typeof input.allowShrink !== 'boolean')
    refuseInput(`plan.allowShrink must be true or false, got ${describe(input.allowShrink)}`);
  const base = await planBackup(scope.inventoryPath, { host, server });
  const paths = stringList(input.paths, 'plan.paths', 10_000).map((path, index) =>
    absolutePathField(path, `plan.paths[${index}]`),
  );
  const selection = base.hostSteps?.selection;
  for (const path of paths) {
    // The plan before the probe carries the inventory's own paths; after it, in mounts mode, the mounts found.
    const allowed =
      base.paths.includes(path) ||
      (selection?.mode === 'mounts' && isUnder(normalizePath(path), normalizePath(selection.root)));
    if (!allowed)
      refuseInput(
        `plan.paths: ${JSON.stringify(path)} is not ${selection?.mode === 'mounts' ? `under ${selection.root}` : `one of ${host}'s paths in the inventory`}`,
      );
  }
  const excludes = stringList(input.excludes, 'plan.excludes', 30_000);
  const ssh = { ...base.ssh };
  delete ssh.controlPath;
  const asked = record(input.ssh ?? {}, 'plan.ssh').controlPath;
  if (base.ssh.controlPath && typeof asked === 'string' && controlPathIsOurs(asked, base.ssh.controlPath))
    ssh.controlPath = asked;
  return { ...base, paths, excludes, ssh, ...(input.allowShrink === true ? { allowShrink: true } : {}) };
}

/** A run's control socket: a 16-hex-digit name (an attempt's "-aN" suffix allowed) in the inventory's folder. */
function controlPathIsOurs(asked: string, fresh: string): boolean {
  return dirname(asked) === dirname(fresh) && /^[0-9a-f]{16}$/.test(basename(asked));
}

/** `<server dataset>/<host>` of a host this worker backs up; the host name is the dataset's last part. */
export async function checkedHostDataset(
  scope: WorkerScope,
  value: unknown,
  field = 'dataset',
): Promise<{ dataset: string; host: string }> {
  if (typeof value !== 'string') refuseInput(`${field} must be a dataset name, got ${describe(value)}`);
  const host = nameField(value.split('/').at(-1), `${field}'s host part`);
  return fromInventory(async () => {
    const { inventory } = await inventoryWithHosts(
      (await keptInventory(scope.inventoryPath).read()).inventory,
      [host],
      {
        server: scope.server,
      },
    );
    const resolved = resolveHost(inventory, host);
    const dataset = hostDataset(resolveServer(inventory, resolved, scope.server).dataset, resolved.host);
    if (value !== dataset)
      refuseInput(`${field} "${value}" is not a host dataset of ${scope.server} (${host}'s is ${dataset})`);
    return { dataset, host: resolved.host };
  });
}

/** A backup-server hook: only a script `servers.<this server>.hooks` names, with the inventory's timeout. */
export async function trustedServerHook(
  scope: WorkerScope,
  script: unknown,
): Promise<{ script: string; timeoutMs: number }> {
  const hooks = resolveServerHooks((await keptInventory(scope.inventoryPath).read()).inventory, scope.server);
  if (typeof script !== 'string' || (script !== hooks.before && script !== hooks.after))
    refuseInput(
      `${describe(script)} is not one of servers.${scope.server}.hooks (before/after) in this worker's inventory`,
    );
  return { script, timeoutMs: hooks.timeoutMs };
}

/** A hook's TIDEMARK_* facts: strings only, bounded. */
export function hookFacts(value: unknown): Record<string, string> {
  const env = record(value, 'hook environment');
  const facts: Record<string, string> = {};
  for (const [name, text] of Object.entries(env)) {
    if (!/^TIDEMARK_[A-Z_]{1,40}$/.test(name) || typeof text !== 'string' || text.length > 8192)
      refuseInput(`hook environment: ${JSON.stringify(name.slice(0, 60))} is not a TIDEMARK_* string`);
    facts[name] = text.replace(/[\0]/g, '');
  }
  return facts;
}

/** A replication step's names: the host and the pair's two servers, this worker being the `side` one. */
export function replicaInputOf(
  scope: WorkerScope,
  value: unknown,
  side: 'source' | 'target',
): { host: string; source: string; target: string } {
  const input = record(value, 'replication input');
  const host = nameField(input.host, 'host');
  const source = side === 'source' ? ownServer(scope, input.source, 'source') : nameField(input.source, 'source');
  const target = side === 'target' ? ownServer(scope, input.target, 'target') : nameField(input.target, 'target');
  return { host, source, target };
}

/** The target's snapshot list as prepareReplicaTarget returned it: Tidemark names and zfs guids (digits). */
export function replicaSnapshotsField(value: unknown): Array<{ name: string; guid: string }> {
  if (!Array.isArray(value) || value.length > 100_000)
    refuseInput(`targetSnapshots must be a list, got ${describe(value)}`);
  return value.map((item, index) => {
    const entry = record(item, `targetSnapshots[${index}]`);
    const guid = entry.guid;
    if (typeof guid !== 'string' || !/^[0-9]{1,20}$/.test(guid))
      refuseInput(`targetSnapshots[${index}].guid must be a zfs guid, got ${describe(guid)}`);
    return { name: zfsSnapshotNameField(entry.name, `targetSnapshots[${index}].name`), guid };
  });
}

/** Any snapshot a target may hold (not only Tidemark's): a ZFS name, nothing a command line could misread. */
export function zfsSnapshotNameField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/.test(value))
    refuseInput(`${field} must be a snapshot name, got ${describe(value)}`);
  return value;
}

/** A zfs receive resume token (`zfs send -t`): OpenZFS writes them as hex digits and dashes. */
export function resumeTokenField(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-f][0-9a-f-]{0,8191}$/i.test(value))
    refuseInput(`resumeToken must be a zfs resume token (hex digits and dashes), got ${describe(value)}`);
  return value;
}

/** A snapshot name this worker would give (tidemark-<time>-<label>). */
export function snapshotNameField(value: unknown, field = 'snapshot name'): string {
  if (typeof value !== 'string' || !parseSnapshotName(value))
    refuseInput(`${field} must be a Tidemark snapshot name, got ${describe(value)}`);
  return value;
}

/** A keep reason, as --keep checks it. */
export function keepField(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = typeof value === 'string' ? keepReasonProblem(value) : `got ${describe(value)}`;
  if (problem) refuseInput(`keep: ${problem}`);
  return value as string;
}

/** The baseline properties a snapshot records: only the guard's own names, bounded values. */
export function recordedProperties(value: unknown): string[] {
  const names = new Set<string>(Object.values(snapshotProperties));
  return stringList(value ?? [], 'recorded', 10, 64 * 1024).map((pair) => {
    const name = pair.split('=')[0] ?? '';
    if (!names.has(name)) refuseInput(`recorded: ${JSON.stringify(name.slice(0, 60))} is not a baseline property`);
    return pair;
  });
}
