// `npm run bench:web [-- --pairs 1000 --runs 3]`: the web console's fleet page for a large fleet (the same
// recorded fleet as bench:status). The real `tidemark web` serves it; timed three times each after one warm-up
// load (which also waits for the server's facts: with no worker here, the facts request's timeout): time to
// first byte and to the whole HTML over HTTP, and in Chromium to a rendered table of every row.
// Target: under 1 s for 1,000 pairs. Uses TIDEMARK_BENCH_TEMPORAL (host:port) when set.
// Writes results/web-bench-<stamp>.json.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { projectRoot } from '../devenv/paths.js';
import { waitFor } from '../devenv/process.js';
import { freePort } from '../worker/free-port.js';
import { benchTemporal } from './bench-temporal.js';
import { recordFleet } from './recorded-fleet.js';

const { values } = parseArgs({
  options: { pairs: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } },
});
const pairCount = Number(values.pairs);
const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));
const chromiumPath = '/usr/bin/chromium';

const startedAt = new Date();
const loadBefore = loadavg();
const temporal = await benchTemporal();
const { address, client, devServer, run } = temporal;
const dir = await mkdtemp('/tmp/tidemark-bench-web-');
const web = { process: undefined as ReturnType<typeof spawn> | undefined };
try {
  const fleet = await recordFleet({
    client,
    address,
    name: `bench-web-${run}`,
    dir,
    pairCount,
    runsPerPair: Number(values.runs),
  });
  console.log(
    `web benchmark: ${pairCount} pairs, ${fleet.runs} runs recorded, Temporal ${address}${devServer ? ' (own dev server)' : ''}`,
  );
  const url = `http://127.0.0.1:${await freePort()}/`;
  web.process = spawn(process.execPath, [cliPath, '--config', fleet.inventory, 'web', '--listen', new URL(url).host], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  web.process.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('tidemark web', async () => output.includes('serving'), 60_000);
  const warm = performance.now();
  await (await fetch(url)).text();
  const firstLoad = (performance.now() - warm) / 1000;
  console.log(`first load (waits for the server's facts): ${firstLoad.toFixed(2)} s`);

  const median = (times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return `median ${sorted[1]!.toFixed(2)} s (min ${sorted[0]!.toFixed(2)}, max ${sorted[2]!.toFixed(2)})`;
  };
  const firstByte: number[] = [];
  const whole: number[] = [];
  let bytes = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = performance.now();
    const response = await fetch(url);
    const reader = response.body!.getReader();
    const first = await reader.read();
    firstByte.push((performance.now() - started) / 1000);
    bytes = first.value?.length ?? 0;
    for (let chunk = first; !chunk.done; chunk = await reader.read()) bytes += chunk.value?.length ?? 0;
    whole.push((performance.now() - started) / 1000);
  }
  console.log(`time to first byte      ${median(firstByte)}; target < 1 s`);
  console.log(`whole HTML (${(bytes / 1024).toFixed(0)} KiB)   ${median(whole)}`);
  const rendered: number[] = [];
  if (existsSync(chromiumPath)) {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = performance.now();
        await page.goto(url, { waitUntil: 'load' });
        const rows = await page.locator('#fleet tbody tr').count();
        rendered.push((performance.now() - started) / 1000);
        if (rows !== pairCount) throw new Error(`the page shows ${rows} rows, not ${pairCount}`);
      }
      console.log(`rendered in Chromium    ${median(rendered)}; target < 1 s`);
    } finally {
      await browser.close();
    }
  }
  const file = join(projectRoot, 'results', `web-bench-${startedAt.toISOString().replace(/[-:]|\.\d+/g, '')}.json`);
  const seconds = (times: number[]) => times.map((time) => Number(time.toFixed(3)));
  writeFileSync(
    file,
    JSON.stringify(
      {
        version: 1,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { nproc: availableParallelism(), node: process.version, loadBefore, loadAfter: loadavg() },
        config: { pairs: pairCount, runsPerPair: Number(values.runs), runsRecorded: fleet.runs },
        seconds: {
          firstLoad: Number(firstLoad.toFixed(3)),
          timeToFirstByte: seconds(firstByte),
          wholeHtml: seconds(whole),
          renderedInChromium: seconds(rendered),
        },
        htmlBytes: bytes,
        targetSeconds: 1,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${file}`);
} finally {
  web.process?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
  await temporal.close();
}
