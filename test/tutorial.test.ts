// Runs every command of docs/tutorial/first-backup-server.md, in order, against the suite's real services:
// its Temporal dev server, its zfs-fuse pool and a loopback sshd standing in for web1. The tutorial is
// written for a real server; these substitutions (and nothing else) adapt it, applied to each code block:
//   `tidemark`                         the built CLI (a shell function), with TIDEMARK_CONFIG at the file below
//   /etc/tidemark                      a fresh directory of this test
//   tank/backups                       a dataset under the suite's pool
//   ssh root@web1.example.org          ssh to the loopback sshd with its own client key (the operator's access)
//   /root/.ssh/authorized_keys         that sshd's AuthorizedKeysFile
//   ssh-keyscan … web1.example.org     the same scan of the loopback sshd's address and port
//   address: web1.example.org          its address, plus its port
//   dataset: tank/backups              also stateFile in the test directory (not /var/lib/tidemark)
//   /srv/www, /srv/restore             directories of this test (/srv/www holds an index.html)
//   127.0.0.1:7233                     the suite's Temporal
// A block starting with `tidemark worker` runs in the background until the end, as the tutorial's second terminal.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { createLoopbackHost } from '../devenv/sshd.js';
import { waitFor } from '../devenv/process.js';
import { zfs } from '../pool/zfs.js';
import { cliPath, testServices } from './helpers/rig.js';

const tutorialPath = fileURLToPath(new URL('../../docs/tutorial/first-backup-server.md', import.meta.url));

/** The tutorial's ```sh blocks, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

test('every command of the tutorial runs as written and does what the text says', async () => {
  const services = testServices();
  const dir = await mkdtemp('/tmp/tidemark-tutorial-');
  const host = await createLoopbackHost(join(dir, 'web1-ssh'), `127.0.${(process.pid % 200) + 20}.251`);
  await host.start();
  cleanups.push(() => host.stop());
  const www = join(dir, 'srv-www');
  await mkdir(www, { recursive: true });
  await writeFile(join(www, 'index.html'), '<h1>web1</h1>\n');
  const dataset = `${services.pool}/tutorial-${dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  cleanups.push(() => zfs(['destroy', '-r', dataset]));
  const etc = join(dir, 'etc-tidemark');
  const operatorSsh = `ssh -i ${host.identityFile} -o UserKnownHostsFile=${host.knownHostsFile} -o StrictHostKeyChecking=yes -p ${host.port} root@${host.address}`;
  const substitutions: Array<[string, string]> = [
    ['ssh root@web1.example.org', operatorSsh],
    ['/root/.ssh/authorized_keys', join(dir, 'web1-ssh', 'authorized_keys')],
    ['ssh-keyscan -t ed25519 web1.example.org', `ssh-keyscan -p ${host.port} -t ed25519 ${host.address}`],
    ['address: web1.example.org', `address: ${host.address}\n    port: ${host.port}`],
    ['dataset: tank/backups', `dataset: ${dataset}\n    stateFile: ${join(dir, 'state.json')}`],
    ['tank/backups', dataset],
    ['/etc/tidemark', etc],
    ['/srv/www', www],
    ['/srv/restore', join(dir, 'restore')],
    ['127.0.0.1:7233', services.temporal],
  ];
  const adapt = (block: string) => substitutions.reduce((text, [from, to]) => text.replaceAll(from, to), block);
  const preamble = `tidemark() { "${process.execPath}" "${cliPath}" "$@"; }\nexport TIDEMARK_CONFIG=${etc}/tidemark.yaml\n`;
  const env = { ...process.env, TEMPORAL_ADDRESS: services.temporal };

  const blocks = shellBlocks(await readFile(tutorialPath, 'utf8'));
  assert.ok(blocks.length >= 8, `only ${blocks.length} blocks found`);
  const outputs: string[] = [];
  for (const block of blocks) {
    const script = preamble + adapt(block);
    if (block.startsWith('tidemark worker')) {
      const worker: ChildProcess = spawn('bash', ['-c', script], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(async () => process.kill(-worker.pid!, 'SIGTERM'));
      let log = '';
      worker.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      worker.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await waitFor('the tutorial worker', async () => log.includes('polling tidemark-control'), 60_000);
      outputs.push(log);
      continue;
    }
    const result = await execa('bash', ['-euo', 'pipefail', '-c', script], { env, reject: false, timeout: 180_000 });
    assert.equal(result.exitCode, 0, `${block}\n${result.stdout}\n${result.stderr}`);
    outputs.push(result.stdout);
  }
  const said = (pattern: RegExp) =>
    assert.ok(
      outputs.some((text) => pattern.test(text)),
      `no output matches ${pattern}`,
    );
  said(/web1: root@\S+ paths \S+srv-www → backup-1/);
  said(/retention \(zone Europe\/Amsterdam\)/);
  said(/SUCCESS/);
  said(new RegExp(`${dataset}/web1@tidemark-\\d{8}T\\d{6}Z`));
  said(/^<h1>web1<\/h1>$/m);
  said(/web1\s+backup-1\s+backup\s+daily \d\d:\d\d\S* Europe\/Amsterdam\s+\d{4}-\d\d-\d\d \d\d:\d\d \+0[12]:00/);

  const connection = await Connection.connect({ address: services.temporal });
  cleanups.push(async () => {
    const client = new Client({ connection });
    for (const id of ['tidemark:backup:web1@backup-1', 'tidemark:sync-inventory'])
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await connection.close();
  });
});
