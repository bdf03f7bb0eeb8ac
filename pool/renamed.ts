// Where a renamed host's backups went: `tidemark rename-host` records the earlier names on the dataset.
import { datasetInfo, zfs, zfsWhenIdle } from './zfs.js';

/** User property on a host's dataset: its host's earlier names, oldest first, comma-separated. */
export const renamedFromProperty = 'tidemark:renamed-from';

/** The datasets directly under `parent` that `old` was renamed into (usually one). */
export async function renamedInto(parent: string, old: string): Promise<string[]> {
  const output = await zfs([
    'list',
    '-H',
    '-o',
    `name,${renamedFromProperty}`,
    '-t',
    'filesystem',
    '-r',
    '-d',
    '1',
    parent,
  ]).catch(() => '');
  return output
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([, names = '-']) => names !== '-' && names.split(',').includes(old))
    .map(([name = '']) => name);
}

/** `zfs rename` of a dataset that may be mounted. zfs-fuse refuses to rename a mounted dataset ("dataset is
 * busy", however long one waits), so it is unmounted first and mounted again under its new name; OpenZFS takes
 * the same three steps. A mount a process still uses stays busy: the wait ends with zfs's own error. */
export async function renameDataset(from: string, to: string): Promise<void> {
  const mounted = (await datasetInfo(from))?.mounted === true;
  if (mounted) await zfsWhenIdle(['unmount', from]);
  await zfsWhenIdle(['rename', from, to]);
  if (mounted) await zfs(['mount', to]);
}
