// `npm run bench:status [-- --pairs 1000 --runs 3]`: how long `tidemark status` takes for a large fleet. Each
// (host, server) pair gets `runs` recorded runs in Temporal visibility (the newest FAILED for every tenth
// pair, the others SUCCESS; every twentieth pair never ran), then the real CLI answers `status --nagios` and
// `status --json`; each is timed over three calls. Target: under 2 s for 1,000 pairs.
// Uses TIDEMARK_BENCH_TEMPORAL (host:port) when set, else starts an in-memory dev server of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { benchTemporal } from './bench-temporal.js';
import { recordFleet } from './recorded-fleet.js';

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
const dir = await mkdtemp('/tmp/tidemark-bench-status-');

try {
  const { inventory, runs } = await recordFleet({
    client,
    address,
    name: `bench-status-${run}`,
    dir,
    pairCount,
    runsPerPair,
  });
  console.log(
    `status benchmark: ${pairCount} pairs, ${runs} runs recorded, Temporal ${address}${devServer ? ' (own dev server)' : ''}`,
  );
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
