// The benchmarks' own file-backed zfs-fuse pool under .cache/bench/, destroyed by the cleanup stack.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../devenv/paths.js';
import { ensureFilePool, removeStalePools } from '../devenv/zfs-pool.js';
import { destroyWhenIdle, type CleanupStack } from './cleanup.js';

/** Creates pool `name` (sparse, compression off, so writes cost what they cost); `keep` leaves it after the run. */
export async function createBenchPool(
  name: string,
  sizeGiB: number,
  cleanups: CleanupStack,
  log: (line: string) => void,
  keep = false,
): Promise<void> {
  const imageFile = join(cacheDir, 'bench', `${name}.img`);
  const mountpoint = join(cacheDir, 'bench', name);
  await removeStalePools('tmbench', join(cacheDir, 'bench'));
  log(`creating file-backed pool ${name} (${sizeGiB} GiB sparse, compression off)`);
  await ensureFilePool({ name, imageFile, mountpoint, size: `${sizeGiB}G`, compression: false });
  if (keep) return;
  cleanups.push(async () => {
    await destroyWhenIdle(() => execa('zpool', ['destroy', '-f', name]));
    rmSync(imageFile, { force: true });
    rmSync(mountpoint, { recursive: true, force: true });
  });
}
