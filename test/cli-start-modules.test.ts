// What a CLI process loads before it can answer: `--version` and `--help` need only the program's definition,
// not the inventory's YAML parser and schema, the NetBox client's HTTP library or the Temporal SDK (each costs
// tens to hundreds of ms of CPU per process; bench:cli measures it). A verb that reads the inventory loads the
// parser and the schema but not NetBox's HTTP library while no NetBox is configured. No services needed: the
// bench's census hook (bench/module-census.ts) lists the loaded files. The shipped CLI is a bundle
// (packaging/bundle-cli.ts): the packages are counted on tsc's entry (cli-modules.js), which loads them file by
// file, and the bundle's own chunks are checked for the same packages' code.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';

const cli = fileURLToPath(new URL('../client/cli.js', import.meta.url));
const cliModules = fileURLToPath(new URL('../client/cli-modules.js', import.meta.url));
const hook = new URL('../bench/module-census.js', import.meta.url).href;

/** Every module file one `node ENTRY ARGS` process loaded. */
async function filesLoaded(dir: string, entry: string, args: string[]): Promise<string[]> {
  const file = join(dir, `census-${basename(entry)}-${args.join('-').replace(/\W+/g, '_')}.txt`);
  const run = await execa(process.execPath, [entry, ...args], {
    reject: false,
    env: { TIDEMARK_BENCH_CENSUS: file, NODE_OPTIONS: `--import ${hook}`, TIDEMARK_CONFIG: join(dir, 'tidemark.yaml') },
  });
  assert.equal(run.exitCode, 0, `${args.join(' ')}: ${run.stderr}`);
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

/** The packages under node_modules among `files`. */
function packagesOf(files: string[]): Set<string> {
  const names = files
    .map((line) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return new Set(names);
}

/** The packages under node_modules one `tidemark ARGS` process loaded, file by file (tsc's entry). */
async function packagesLoaded(dir: string, args: string[]): Promise<Set<string>> {
  return packagesOf(await filesLoaded(dir, cliModules, args));
}

/** What one bundled `tidemark ARGS` process loaded: every file, and the bundle's own (entry and chunks) with their text. */
async function bundleLoaded(dir: string, args: string[]): Promise<{ all: string[]; files: string[]; text: string }> {
  const all = await filesLoaded(dir, cli, args);
  const files = all
    .map((line) => (line.startsWith('file:') ? fileURLToPath(line) : line))
    .filter((path) => dirname(path) === dirname(cli) && /^cli(-chunk-\w+)?\.js$/.test(basename(path)));
  const texts = await Promise.all(files.map((path) => readFile(path, 'utf8')));
  return { all, files, text: texts.join('\n') };
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

    // The bundle: the same split, seen in the code of the files each process loaded (markers: zod's and yaml's
    // error classes); the packages it leaves outside (undici, the SDK) still load as files.
    const version = await bundleLoaded(dir, ['--version']);
    assert.ok(version.files.length > 0, 'the census saw the bundle');
    for (const marker of ['ZodError', 'YAMLParseError'])
      assert.ok(
        !version.text.includes(marker),
        `--version loaded ${marker} (${version.files.map((file) => basename(file)).join(', ')})`,
      );
    const bundledHosts = await bundleLoaded(dir, ['hosts']);
    for (const marker of ['ZodError', 'YAMLParseError'])
      assert.ok(bundledHosts.text.includes(marker), `hosts did not load ${marker}`);
    const outside = packagesOf(bundledHosts.all);
    for (const name of ['undici', '@temporalio/client'])
      assert.ok(!outside.has(name), `the bundled hosts loaded ${name}: ${[...outside].join(', ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
