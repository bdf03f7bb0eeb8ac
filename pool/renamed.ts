// Where a renamed host's backups went: `tidemark rename-host` records the earlier names on the dataset.
import { zfs } from './zfs.js';

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

/** `zfs rename`; zfs-fuse keeps a just-used dataset busy for a moment, so "busy" is retried for up to 10 s. */
export async function renameDataset(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await zfs(['rename', from, to]);
      return;
    } catch (error) {
      if (!/busy/.test((error as Error).message) || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
