// A host of a group whose transfer options, ionice and notify target reach it in a real run (real sshd on
// 127.0.0.x behind the host filter that `tidemark host-setup` configures, rsync, zfs-fuse, Temporal): a
// Latin-1 file name arrives as UTF-8 through --iconv=utf8,latin1, rsync runs under ionice/nice (the filter
// pins that prefix), the group's webhook hears the run, and checksumEvery makes it a --checksum run.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { packagedFilterPath } from '../client/host-setup.js';
import { waitFor } from '../devenv/process.js';
import { startHttpReceiver, type HttpReceiver } from './helpers/fake-servers.js';
import { editInventory } from './helpers/inventory-edit.js';
import { installHostSetup } from './helpers/host-setup.js';
import { createRig, type Rig } from './helpers/rig.js';

/** "café.txt" as a Latin-1 host writes it: é is the single byte 0xE9 (not valid UTF-8). */
const latin1Name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]);
let rig: Rig;
let hooks: HttpReceiver;
let setupText: string;
let filterConfigPath: string;

before(async () => {
  rig = await createRig('xferopts');
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(Buffer.concat([Buffer.from(`${rig.source}/`), latin1Name]), 'latin-1 named\n');
  hooks = await startHttpReceiver();
  editInventory(rig, (inventory) => {
    inventory.groups = {
      latin: {
        transfer: {
          rsyncOptions: ['--iconv=utf8,latin1'],
          ionice: { class: 'best-effort', level: 7 },
          nice: 10,
          checksumEvery: '1d',
          // The host's own attempts (the rig's 3) win over this.
          attempts: 1,
        },
        notify: [{ type: 'webhook', url: `${hooks.url}/latin/{host}`, attempts: 2 }],
      },
    };
    inventory.hosts[rig.hostName].group = 'latin';
    inventory.servers[rig.server].address = '127.0.0.0/8';
  });
  filterConfigPath = join(rig.dir, 'tidemark-ssh-filter.conf');
  setupText = (await installHostSetup(rig, filterConfigPath)).join('\n');
  await rig.startWorker();
});
after(async () => {
  await rig?.close();
  await hooks?.close();
});

test("host-setup pins the group's ionice and nice in the filter's settings", () => {
  assert.match(setupText, /^priority=ionice -c 2 -n 7 nice -n 10$/m);
});

test('a run behind the host filter: Latin-1 name arrives as UTF-8, under ionice, a checksum run, the group is notified', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait'], { timeoutMs: 180_000 });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout + rig.workerOutput());
  assert.match(run.stdout, /SUCCESS: demo-host .*\(checksum run: contents compared\)/);
  const copied = readdirSync(Buffer.from(join(await rig.copyPath(), rig.source)), { encoding: 'buffer' });
  assert.deepEqual(
    copied.map((name) => name.toString('hex')),
    [Buffer.from('café.txt', 'utf8').toString('hex')],
  );
  await waitFor('the group webhook', async () => hooks.requests.length > 0, 60_000);
  assert.equal(hooks.requests[0]!.url, '/latin/demo-host');
  assert.match(hooks.requests[0]!.body, /"status":"SUCCESS"/);
});

test('the filter refuses an rsync without the pinned ionice/nice prefix, and a foreign prefix', async () => {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const command of [
    'rsync --server --sender -slogDtpre.iLsfxCIvu',
    'nice -n 0 rsync --server --sender -slogDtpre.iLsfxCIvu',
    'ionice -c 2 -n 7 nice -n 10 sh --server --sender -slogDtpre.iLsfxCIvu',
  ]) {
    const result = await execa('sh', [packagedFilterPath, filterConfigPath], {
      env: { ...env, SSH_ORIGINAL_COMMAND: command },
      extendEnv: false,
      input: '',
      reject: false,
    });
    assert.equal(result.exitCode, 1, command);
    assert.match(
      result.stderr,
      /tidemark-ssh-filter: refused: (not a Tidemark command|a sending rsync must run as "ionice -c 2 -n 7 nice -n 10 rsync")/,
    );
  }
});
