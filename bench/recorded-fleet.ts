// A large fleet as Temporal visibility sees it, for the status and web console benchmarks: an inventory of
// `pairCount` hosts on one server and `runsPerPair` finished runs per pair (the newest FAILED for every tenth
// pair, the others SUCCESS; every twentieth pair never ran). Runs are started with their attributes and
// terminated at once (no worker runs them); status reads the recorded TidemarkStatus as for a real run.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { hostAttribute, serverAttribute, statusAttribute } from '../domain/search-attributes.js';
import { mapLimit } from '../schedule/reconcile.js';

export interface RecordedFleet {
  inventory: string;
  server: string;
  runs: number;
  recordSeconds: number;
}

export async function recordFleet(options: {
  client: Client;
  address: string;
  /** Unique per benchmark run: names the server, the workflow ids and the task queue. */
  name: string;
  dir: string;
  pairCount: number;
  runsPerPair: number;
}): Promise<RecordedFleet> {
  const { client, name, pairCount, runsPerPair } = options;
  const server = name;
  const hosts = Array.from({ length: pairCount }, (_, i) => `host${String(i).padStart(4, '0')}.example.org`);
  const inventory = join(options.dir, 'tidemark.yaml');
  await writeFile(
    inventory,
    stringify({
      temporal: { address: options.address },
      servers: { [server]: { dataset: `bench/${name}` } },
      hosts: Object.fromEntries(
        hosts.map((host, i) => [host, { address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }]),
      ),
    }),
  );
  const recordRun = async (host: string, index: number, status: 'SUCCESS' | 'FAILED') => {
    const handle = await client.workflow.start('backupHost', {
      taskQueue: `${name}-no-worker`,
      workflowId: `${name}-${host}-${index}`,
      args: [{ host, server }],
      typedSearchAttributes: [
        { key: hostAttribute, value: host },
        { key: serverAttribute, value: server },
        { key: statusAttribute, value: status },
      ],
    });
    await handle.terminate('benchmark record');
  };
  const started = performance.now();
  // In rounds, as schedules make them: every pair's first run, then every pair's second, ...
  const work = Array.from({ length: runsPerPair }, (_, index) =>
    hosts.flatMap((host, i) =>
      i % 20 === 19
        ? []
        : [
            {
              host,
              index,
              status: (index === runsPerPair - 1 && i % 10 === 0 ? 'FAILED' : 'SUCCESS') as 'SUCCESS' | 'FAILED',
            },
          ],
    ),
  ).flat();
  await mapLimit(work, 16, (item) => recordRun(item.host, item.index, item.status));
  // Visibility is eventually consistent: wait until every run is listed.
  for (;;) {
    const { count } = await client.workflow.count(`WorkflowType = 'backupHost' AND TidemarkServer = '${server}'`);
    if (count >= work.length) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { inventory, server, runs: work.length, recordSeconds: (performance.now() - started) / 1000 };
}
