// The thread behind activities/mount-selection.ts: one table in, its selection out, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import { selectFromMountTable, type SelectionOptions } from '../domain/mounts.js';

const { table, options, listed } = workerData as { table: string; options: SelectionOptions; listed: number };
parentPort!.postMessage(selectFromMountTable(table, options, listed));
