// Issue 20, HostKeyAlias: ssh checks a host's key under the host's inventory name, not under its address, so
// a reassigned address (or a name pointed at another machine) meets the name's own entry. Existing
// known_hosts files hold address entries only: the run copies those under the name first (the rig's
// known_hosts is such a file), and never over an entry the name already has.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';
import { listSnapshots } from '../pool/zfs.js';
import { createRig, type Rig } from './helpers/rig.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { snapshotIdentity } from './helpers/safety.js';

let rig: Rig;
let second: LoopbackHost;
/** The rig's host key as known_hosts writes it after the host pattern: "ssh-ed25519 AAAA…". */
let hostKey: string;

before(async () => {
  rig = await createRig('hostkey');
  await mkdir(rig.source, { recursive: true });
  await writeFile(join(rig.source, 'first'), 'one\n');
  hostKey = rig.host.hostKeyLine.split(' ').slice(1).join(' ');
  // Another machine that trusts the backup server's key, known by its address only.
  second = await createLoopbackHost(join(rig.dir, 'ssh2'), `127.0.${(process.pid % 200) + 20}.252`);
  await writeFile(join(rig.dir, 'ssh2', 'authorized_keys'), await readFile(`${rig.host.identityFile}.pub`));
  await second.start();
  await rig.startWorker();
});
after(async () => {
  await second?.stop();
  await rig.close();
});

/** known_hosts lines whose host field is `name`. */
async function entriesOf(name: string): Promise<string[]> {
  const text = await readFile(rig.host.knownHostsFile, 'utf8');
  return text.split('\n').filter((line) => line.split(' ')[0] === name);
}

test('a known_hosts with only the address entry: the backup succeeds and the file then holds the name entry', async () => {
  assert.deepEqual(await entriesOf(rig.hostName), [], 'the rig writes address entries only');
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const named = await entriesOf(rig.hostName);
  assert.equal(named.length, 1, named.join('\n'));
  assert.equal(named[0]!.split(' ').slice(1, 3).join(' '), hostKey);
  // The address entry stays as it was; a second run adds nothing.
  assert.ok((await readFile(rig.host.knownHostsFile, 'utf8')).startsWith(`${rig.host.hostKeyLine}\n`));
  const again = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(again.exitCode, 0, again.stdout + again.stderr);
  assert.equal((await entriesOf(rig.hostName)).length, 1);
  // Said once, at INFO, naming host, address and file.
  const said = rig
    .workerOutput()
    .split('\n')
    .filter((line) => line.includes('known_hosts') && line.includes('under its name'));
  assert.equal(said.length, 1, said.join('\n'));
  assert.match(said[0]!, /"level":"info"/);
  assert.ok(
    said[0]!.includes(`${rig.hostName}`) && said[0]!.includes(`[${rig.host.address}]:${rig.host.port}`),
    said[0],
  );
  assert.ok(said[0]!.includes(rig.host.knownHostsFile), said[0]);
});

test("the name's entry holds another key: the run fails naming the host, and nothing is copied", async () => {
  const other = join(rig.dir, 'other_host_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  const otherKey = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
  // The address entry is right; the name's is not (the machine behind the name changed its key).
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n${rig.hostName} ${otherKey}\n`);
  await writeFile(join(rig.source, 'must-not-arrive'), 'x');
  const snapshotsBefore = await listSnapshots(rig.dataset);

  const failed = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(failed.exitCode, 1, failed.stdout + failed.stderr);
  assert.match(
    failed.stderr,
    /ssh rejected the host key of demo-host \(root@127\.\S+\), checked under the name "demo-host"/,
  );
  assert.match(failed.stderr, /tidemark host-key --host demo-host/);
  // Nothing copied over the name's entry, nothing transferred, no snapshot.
  assert.equal(
    await readFile(rig.host.knownHostsFile, 'utf8'),
    `${rig.host.hostKeyLine}\n${rig.hostName} ${otherKey}\n`,
  );
  assert.deepEqual(snapshotIdentity(await listSnapshots(rig.dataset)), snapshotIdentity(snapshotsBefore));
  await execa('rm', [join(rig.source, 'must-not-arrive')]);
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n`);
});

test('a name pointed at another machine that known_hosts knows by its address fails; a new name for that address works', async () => {
  // The operator once trusted the second machine under its address; the name demo-host has its own entry.
  await writeFile(
    rig.host.knownHostsFile,
    `${rig.host.hostKeyLine}\n${rig.hostName} ${hostKey}\n${second.hostKeyLine}\n`,
  );
  const snapshotsBefore = await listSnapshots(rig.dataset);
  // A DNS or NetBox change points demo-host at the second machine: checked by address it would pass.
  setHostSettings(rig, { address: second.address, port: second.port });
  const failed = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(failed.exitCode, 1, failed.stdout + failed.stderr);
  assert.match(failed.stderr, /ssh rejected the host key of demo-host \(root@127\.\S+\)/);
  assert.deepEqual(snapshotIdentity(await listSnapshots(rig.dataset)), snapshotIdentity(snapshotsBefore));
  assert.deepEqual(await entriesOf(rig.hostName), [`${rig.hostName} ${hostKey}`], 'the name entry is left alone');

  // The same address given to a new inventory host name: its key comes from the address entry.
  editInventory(rig, (inventory) => {
    inventory.hosts['second-host'] = { ...inventory.hosts[rig.hostName], address: second.address, port: second.port };
  });
  const newName = await rig.cli(['start-backup', '--host', 'second-host', '--wait']);
  assert.equal(newName.exitCode, 0, newName.stdout + newName.stderr);
  assert.deepEqual(
    (await entriesOf('second-host')).map((line) => line.split(' ').slice(0, 3).join(' ')),
    [`second-host ${second.hostKeyLine.split(' ').slice(1).join(' ')}`],
  );
  setHostSettings(rig, { address: rig.host.address, port: rig.host.port });
});

test("tidemark host-key: a new host's key under its name (unchecked, with fingerprints), checked against an address entry, never over another key", async () => {
  // A host known_hosts lists neither by name nor by address: the scan is printed, marked unchecked.
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n`);
  editInventory(rig, (inventory) => {
    inventory.hosts['fresh-host'] = { ...inventory.hosts[rig.hostName], address: second.address, port: second.port };
  });
  const fresh = await rig.cli(['host-key', '--host', 'fresh-host']);
  assert.equal(fresh.exitCode, 0, fresh.stderr);
  const secondKey = second.hostKeyLine.split(' ').slice(1).join(' ');
  assert.match(fresh.stdout, /^# fresh-host \(127\.\S+ port \d+\): NOT checked/);
  assert.match(fresh.stdout, /#\s+256 SHA256:\S+ fresh-host \(ED25519\)/);
  assert.ok(fresh.stdout.split('\n').includes(`fresh-host ${secondKey}`), fresh.stdout);
  // Its output appended as it is: the host's backup checks the key under its name.
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n${fresh.stdout}\n`);
  const backup = await rig.cli(['start-backup', '--host', 'fresh-host', '--wait']);
  assert.equal(backup.exitCode, 0, backup.stdout + backup.stderr);
  // Listed and matching: nothing to add.
  const listed = await rig.cli(['host-key', '--host', 'fresh-host']);
  assert.deepEqual([listed.exitCode, listed.stdout], [0, '']);
  assert.match(listed.stderr, /nothing to add/);

  // Known by address only: the scanned key checked against that entry.
  const byAddress = await rig.cli(['host-key', '--host', rig.hostName]);
  assert.equal(byAddress.exitCode, 0, byAddress.stderr);
  assert.deepEqual(
    byAddress.stdout.split('\n').filter((line) => !line.startsWith('#')),
    [`${rig.hostName} ${hostKey}`],
  );
  // The address entry holds another key than the machine answers with: nothing printed.
  await writeFile(rig.host.knownHostsFile, `[${rig.host.address}]:${rig.host.port} ${secondKey}\n`);
  const differs = await rig.cli(['host-key', '--host', rig.hostName]);
  assert.deepEqual([differs.exitCode, differs.stdout], [1, '']);
  assert.match(differs.stderr, /answers with other keys than the ones \S+ lists for its address/);
  // The name's entry holds another key: nothing printed, the way to replace it named.
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n${rig.hostName} ${secondKey}\n`);
  const changed = await rig.cli(['host-key', '--host', rig.hostName]);
  assert.deepEqual([changed.exitCode, changed.stdout], [1, '']);
  assert.match(changed.stderr, /ssh-keygen -R demo-host -f /);
  await writeFile(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n`);
});
