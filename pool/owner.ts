// Which host a dataset belongs to: set when Tidemark creates it, checked before every write into it.
import { zfs } from './zfs.js';

/** User property naming the dataset's host (set locally; an inherited value does not count). */
export const ownerProperty = 'tidemark:host';

/** The host `dataset` belongs to: the owner property when set locally on it, else undefined (not Tidemark's,
 * or not adopted yet). */
export async function datasetOwner(dataset: string): Promise<string | undefined> {
  const [value = '-', source = ''] = (await zfs(['get', '-H', '-o', 'value,source', ownerProperty, dataset]))
    .trim()
    .split('\t');
  return source === 'local' && value !== '-' ? value : undefined;
}
