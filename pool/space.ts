// Pool guards before a transfer: the pool must be healthy, and the run's expected write must leave the
// configured reserve free. A full pool half-way through an --inplace transfer leaves a half-written copy.
import type { ActivityFailureType } from '../domain/failures.js';
import { getExisting, runPoolTool } from './zfs.js';

export interface PoolState {
  pool: string;
  /** zpool health: ONLINE, DEGRADED, FAULTED, UNAVAIL, ... */
  health: string;
  /** Bytes the dataset can still take (quota and pool free space both count). */
  availableBytes: number;
  /** used + available of the pool's root dataset. */
  sizeBytes: number;
}

/** Health and space of the pool holding `dataset` (which may not exist yet: then its parent is asked). */
export async function readPoolState(dataset: string): Promise<PoolState> {
  const pool = dataset.split('/')[0]!;
  const health = await runPoolTool('zpool', ['list', '-H', '-o', 'health', pool]);
  if (health.exitCode !== 0)
    throw new Error(`zpool list ${pool}: ${health.stderr.trim() || `exit ${health.exitCode}`}`);
  // One zfs call for the room of the dataset (or, before its first run, its nearest ancestor) and the pool's
  // size (used + available of its root); zfs reports the ancestors that exist and complains about the rest.
  const parts = dataset.split('/');
  const candidates = parts.map((_, index) => parts.slice(0, parts.length - index).join('/'));
  const values = new Map<string, string>();
  for (const { name, property, value } of await getExisting(candidates, ['used', 'available']))
    values.set(`${name} ${property}`, value);
  const number = (name: string, property: string) => Number(values.get(`${name} ${property}`) ?? 'NaN');
  if (!values.has(`${pool} available`))
    throw new Error(`zfs get used,available ${pool}: the pool's root dataset is missing`);
  const asked = candidates.find((candidate) => values.has(`${candidate} available`)) ?? pool;
  return {
    pool,
    health: health.stdout.trim(),
    availableBytes: number(asked, 'available'),
    sizeBytes: number(pool, 'used') + number(pool, 'available'),
  };
}

export interface PoolVerdict {
  /** Refuse to start the transfer, with the reason. */
  refuse?: { type: Extract<ActivityFailureType, 'PoolUnhealthy' | 'PoolReserve'>; message: string };
  /** Run, but end WARNING with these. */
  warnings: string[];
}

/** ONLINE: go. DEGRADED: go, WARNING. Anything else: refuse. Then: available − expected write ≥ reserve. */
export function judgePool(
  state: PoolState,
  expectedWriteBytes: number,
  reserve: { bytes?: number; percent?: number },
): PoolVerdict {
  const warnings: string[] = [];
  if (state.health === 'DEGRADED') warnings.push(`pool ${state.pool} is DEGRADED (zpool status ${state.pool})`);
  else if (state.health !== 'ONLINE') {
    return {
      warnings,
      refuse: {
        type: 'PoolUnhealthy',
        message: `pool ${state.pool} is ${state.health || 'in an unknown state'}; nothing was copied (zpool status ${state.pool})`,
      },
    };
  }
  const reserveBytes = reserve.bytes ?? Math.ceil(((reserve.percent ?? 5) * state.sizeBytes) / 100);
  const left = state.availableBytes - expectedWriteBytes;
  if (!Number.isFinite(left) || left < reserveBytes) {
    return {
      warnings,
      refuse: {
        type: 'PoolReserve',
        message:
          `pool ${state.pool} would fall below its reserve: ${formatBytes(state.availableBytes)} available, the last run wrote ` +
          `${formatBytes(expectedWriteBytes)}, reserve ${formatBytes(reserveBytes)} (servers.<name>.reserve); nothing was copied. ` +
          'Free space (prune, zfs destroy) or lower the reserve',
      },
    };
  }
  return { warnings };
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
