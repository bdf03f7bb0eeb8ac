// What a CLI process loads before it can answer: `--version` and `--help` need only the program's definition,
// not the inventory's YAML parser and schema, the NetBox client's HTTP library or the Temporal SDK (each costs
// tens to hundreds of ms of CPU per process; bench:cli measures it). A verb that reads the inventory loads the
// parser and the schema but not NetBox's HTTP library while no NetBox is configured. No services needed: the
// bench's census hook (bench/module-census.ts) lists the loaded files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';

const cli = fileURLToPath(new URL('../client/cli.js', import.meta.url));
const hook = new URL('../bench/module-census.js', import.meta.url).href;

/** The packages under node_modules one `tidemark ARGS` process loaded. */
async function packagesLoaded(dir: string, args: string[]): Promise<Set<string>> {
  const file = join(dir, `census-${args.join('-').replace(/\W+/g, '_')}.txt`);
  const run = await execa(process.execPath, [cli, ...args], {
    reject: false,
    env: { TIDEMARK_BENCH_CENSUS: file, NODE_OPTIONS: `--import ${hook}`, TIDEMARK_CONFIG: join(dir, 'tidemark.yaml') },
  });
  assert.equal(run.exitCode, 0, `${args.join(' ')}: ${run.stderr}`);
  const names = (await readFile(file, 'utf8'))
    .split('\n')
    .map((line) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return new Set(names);
}

test('--version and --help load commander only; hosts loads the parser and schema but no HTTP library or SDK', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-cli-modules-'));
  try {
    await writeFile(
      join(dir, 'tidemark.yaml'),
      'servers: { backup-1: { dataset: tank/backup } }\nhosts: { web1: { address: 192.0.2.10 } }\n',
    );
    for (const flag of ['--version', '--help']) {
      assert.deepEqual([...(await packagesLoaded(dir, [flag]))], ['commander'], flag);
    }
    const hosts = await packagesLoaded(dir, ['hosts']);
    for (const name of ['yaml', 'zod'])
      assert.ok(hosts.has(name), `hosts did not load ${name}: ${[...hosts].join(', ')}`);
    for (const name of ['undici', '@temporalio/client', 'execa'])
      assert.ok(!hosts.has(name), `hosts loaded ${name}: ${[...hosts].join(', ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
