// `npm run bench:status [-- --pairs 1000 --runs 3]`: how long `tidemark status` takes for a large fleet. Each
// (host, server) pair gets `runs` recorded runs in Temporal visibility (the newest FAILED for every tenth
// pair, the others SUCCESS; every twentieth pair never ran), then the real CLI answers `status --nagios` and
// `status --json`; each is timed over three calls. Target: under 2 s for 1,000 pairs.
// Uses TIDEMARK_BENCH_TEMPORAL (host:port) when set, else starts an in-memory dev server of its own.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { benchTemporal } from './bench-temporal.js';
import { hostAttribute, serverAttribute, statusAttribute } from '../domain/search-attributes.js';
import { mapLimit } from '../schedule/reconcile.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    // Leave the inventory (and the runs) behind, to time `status` by hand afterwards.
    keep: { type: 'boolean', default: false },
  },
});
const pairCount = Number(values.pairs);
const runsPerPair = Number(values.runs);
const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));

const temporal = await benchTemporal();
const { address, client, devServer, run } = temporal;
const server = `bench-status-${run}`;
const hosts = Array.from({ length: pairCount }, (_, i) => `host${String(i).padStart(4, '0')}.example.org`);
const dir = await mkdtemp('/tmp/tidemark-bench-status-');

/** One finished run as visibility holds it: started with its attributes and ended at once (no worker runs
 * it); status reads the recorded TidemarkStatus, as it does for a real run. */
async function recordRun(host: string, index: number, status: 'SUCCESS' | 'FAILED'): Promise<void> {
  const handle = await client.workflow.start('backupHost', {
    taskQueue: `bench-status-no-worker-${run}`,
    workflowId: `bench-status-${run}-${host}-${index}`,
    args: [{ host, server }],
    typedSearchAttributes: [
      { key: hostAttribute, value: host },
      { key: serverAttribute, value: server },
      { key: statusAttribute, value: status },
    ],
  });
  await handle.terminate('benchmark record');
}

try {
  const inventory = join(dir, 'tidemark.yaml');
  await writeFile(
    inventory,
    stringify({
      temporal: { address },
      servers: { [server]: { dataset: `bench/${run}` } },
      hosts: Object.fromEntries(
        hosts.map((host, i) => [host, { address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }]),
      ),
    }),
  );
  const recordStarted = performance.now();
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
  console.log(
    `status benchmark: ${pairCount} pairs, ${work.length} runs recorded in ${((performance.now() - recordStarted) / 1000).toFixed(1)} s, Temporal ${address}${devServer ? ' (own dev server)' : ''}`,
  );
  // Visibility is eventually consistent: wait until every run is listed.
  for (;;) {
    const { count } = await client.workflow.count(`WorkflowType = 'backupHost' AND TidemarkServer = '${server}'`);
    if (count >= work.length) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  for (const args of [
    ['status', '--nagios'],
    ['status', '--json'],
  ]) {
    const times: number[] = [];
    let exitCode = -1;
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const result = await execa(process.execPath, [cliPath, '--config', inventory, ...args], { reject: false });
      times.push((performance.now() - started) / 1000);
      exitCode = result.exitCode ?? -1;
      if (exitCode > 3) throw new Error(`${args.join(' ')} exited ${exitCode}: ${result.stderr}`);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${args.join(' ').padEnd(16)} median ${times[1]!.toFixed(2)} s (min ${times[0]!.toFixed(2)}, max ${times[2]!.toFixed(2)}), exit ${exitCode}; target < 2 s`,
    );
  }
} finally {
  if (values.keep) console.log(`inventory kept: ${join(dir, 'tidemark.yaml')}`);
  else await rm(dir, { recursive: true, force: true });
  await temporal.close();
}
