// Where a renamed host's backups went: `tidemark rename-host` records the earlier names on the dataset.
import { zfs, zfsWhenIdle } from './zfs.js';

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

/** `zfs rename`, waiting out a dataset that is still busy from its last use. */
export async function renameDataset(from: string, to: string): Promise<void> {
  await zfsWhenIdle(['rename', from, to]);
}
