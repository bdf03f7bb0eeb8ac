// The few zfs(8) commands Tidemark uses, limited to what both OpenZFS and zfs-fuse accept.
import { execFile } from 'node:child_process';

export interface PoolToolResult {
  /** undefined when the tool could not run or was killed (stderr then says why). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Set when the tool is not installed here (a machine without a pool). */
  notInstalled?: true;
}

/** Runs `zfs` or `zpool` with an argument array, never through a shell. node's execFile rather than execa:
 * a backup makes ~14 of these calls on the worker's event loop, and execFile spends ~3 ms less CPU and
 * ~4 ms less time on each (measured against execa with the same arguments). */
export function runPoolTool(tool: 'zfs' | 'zpool', args: string[]): Promise<PoolToolResult> {
  return new Promise((resolve) => {
    // A listing of many snapshots is large: allow far more than execFile's default 1 MiB.
    execFile(tool, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ exitCode: 0, stdout, stderr });
      const code = (error as { code?: unknown }).code;
      resolve({
        exitCode: typeof code === 'number' ? code : undefined,
        stdout,
        stderr: stderr || error.message,
        ...(code === 'ENOENT' ? { notInstalled: true as const } : {}),
      });
    });
  });
}

/** Runs `zfs ...args` and returns stdout; the error message carries zfs's own complaint. */
export async function zfs(args: string[]): Promise<string> {
  const result = await runPoolTool('zfs', args);
  if (result.exitCode !== 0) {
    throw new Error(`zfs ${args.join(' ')}: ${(result.stderr || result.stdout).trim() || `exit ${result.exitCode}`}`);
  }
  return result.stdout;
}

/** How long a step waits out "dataset is busy": zfs-fuse keeps a just-used dataset busy for a moment (seconds
 * on a loaded machine; 10 s was not always enough in CI), as does a mount a process is just leaving. */
const busyPatienceMs = 60_000;

/** `zfs ...args`, retried while zfs says the dataset is busy (up to a minute, then zfs's own error). */
export async function zfsWhenIdle(args: string[]): Promise<string> {
  const deadline = Date.now() + busyPatienceMs;
  for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 4_000)) {
    try {
      return await zfs(args);
    } catch (error) {
      if (!/busy/.test((error as Error).message) || Date.now() + waitMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

export interface DatasetInfo {
  mountpoint: string;
  mounted: boolean;
}

/** Mount state of a dataset, or undefined when it does not exist. */
export async function datasetInfo(dataset: string): Promise<DatasetInfo | undefined> {
  const result = await runPoolTool('zfs', ['list', '-H', '-o', 'mountpoint,mounted', '-t', 'filesystem', dataset]);
  if (result.exitCode !== 0) {
    if (/does not exist/.test(result.stderr)) return undefined;
    throw new Error(`zfs list ${dataset}: ${result.stderr.trim()}`);
  }
  const [mountpoint = '', mounted = ''] = result.stdout.trim().split('\t');
  return { mountpoint, mounted: mounted === 'yes' };
}

export interface SnapshotInfo {
  /** Name after the "@". */
  name: string;
  /** Creation time, Unix seconds. */
  createdAt: number;
  /** Bytes unique to this snapshot. */
  used: number;
  /** Operator holds (`zfs hold`); NaN when unreadable, which retention treats as held. */
  holds: number;
}

/** One `zfs get` row: `source` is "local" for a property set on this very dataset or snapshot. */
export interface ZfsPropertyRow {
  name: string;
  property: string;
  value: string;
  source: string;
}

/** `properties` of `dataset` and its direct children (snapshots and datasets), exact numbers (-p). */
export function getOneLevel(dataset: string, properties: string[]): Promise<ZfsPropertyRow[]> {
  return getToDepth(dataset, properties, 1);
}

/** `properties` of `dataset` and what lies up to `depth` levels below it, exact numbers (-p), one zfs call. */
export async function getToDepth(dataset: string, properties: string[], depth: number): Promise<ZfsPropertyRow[]> {
  const output = await zfs([
    'get',
    '-H',
    '-p',
    '-r',
    '-d',
    String(depth),
    '-o',
    'name,property,value,source',
    properties.join(','),
    dataset,
  ]);
  return rows(output);
}

/** `properties` (exact numbers, -p) of those of `targets` (datasets or snapshots) that exist, in one zfs call;
 * a missing target is skipped, any other complaint of zfs throws. */
export async function getExisting(targets: string[], properties: string[]): Promise<ZfsPropertyRow[]> {
  const args = ['get', '-H', '-p', '-o', 'name,property,value,source', properties.join(','), ...targets];
  const output = await runPoolTool('zfs', args);
  const complaints = output.stderr.split('\n').filter((line) => line.trim() !== '' && !/does not exist/.test(line));
  if (output.exitCode !== 0 && complaints.length > 0) throw new Error(`zfs ${args.join(' ')}: ${complaints.join(' ')}`);
  return rows(output.stdout);
}

function rows(output: string): ZfsPropertyRow[] {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [name = '', property = '', value = '', source = ''] = line.split('\t');
      return { name, property, value, source };
    });
}

/** Snapshots of exactly this dataset (not its children), oldest first. */
export async function listSnapshots(dataset: string): Promise<SnapshotInfo[]> {
  const byName = new Map<string, SnapshotInfo>();
  for (const { name: fullName, property, value } of await getOneLevel(dataset, ['creation', 'used', 'userrefs'])) {
    const [owner, name] = fullName.split('@');
    if (owner !== dataset || name === undefined) continue;
    const info = byName.get(name) ?? { name, createdAt: 0, used: 0, holds: Number.NaN };
    if (property === 'creation') info.createdAt = Number(value);
    if (property === 'used') info.used = Number(value);
    if (property === 'userrefs') info.holds = Number(value);
    byName.set(name, info);
  }
  return [...byName.values()].sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
}
