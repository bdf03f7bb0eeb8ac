// The probe's mount selection, off the event loop when the table is long. A host writes its own mount
// table: up to ~200k lines fit the probe's output cap, and parsing and selecting those on the worker's
// event loop would hold up every other activity's heartbeat on that worker (bench/mount-table-bench.ts).
import { Worker } from 'node:worker_threads';
import { selectFromMountTable, type SelectedMounts, type SelectionOptions } from '../domain/mounts.js';

/** A normal table (a few KiB) is selected in place: starting a thread would cost more than it saves. */
const inPlaceBytes = 64 * 1024;

export async function selectHostMounts(
  table: string,
  options: SelectionOptions,
  listed: number,
): Promise<SelectedMounts> {
  if (table.length <= inPlaceBytes) return selectFromMountTable(table, options, listed);
  // '../activities/': the same file from dist/activities/ and from the CLI's bundle chunks in dist/client/.
  const thread = new Worker(new URL('../activities/mount-selection-thread.js', import.meta.url), {
    workerData: { table, options: { ...options, extraTypes: [...options.extraTypes] }, listed },
  });
  try {
    return await new Promise<SelectedMounts>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the mount selection thread exited ${code} without an answer`)));
    });
  } finally {
    void thread.terminate();
  }
}
