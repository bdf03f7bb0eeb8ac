// Host groups (docs/how-to/groups-and-transfer-options.md): a two-group inventory where each group's
// settings reach its hosts and a host's own field wins; an unknown group breaks only that host, naming the
// field and the known groups; `config check --explain` names the origin of each setting (host, NetBox,
// group, defaults, built-in default); the allow-list of rsync options is enforced at the field.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { execa } from 'execa';
import { explainHost } from '../inventory/explain.js';
import { parseInventory, parseInventoryIsolatingHosts } from '../inventory/load.js';
import { resolveHost, resolveRetention, resolveSchedule } from '../inventory/resolve.js';
import { mergeNetboxHosts } from '../inventory/sources.js';
import { resolveNotifyTargets } from '../notify/targets.js';
import { hostsOfGroup } from '../inventory/groups.js';
import { rshOption, rsyncArgs, sshCommand } from '../domain/rsync-args.js';
import type { BackupPlan } from '../domain/backup.js';

/** The built CLI (dist/client/cli.js); config check needs no service of the suite. */
const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));

const twoGroups = `
servers: { b1: { dataset: data } }
defaults:
  user: backup
  retention: { daily: 7, weekly: 4 }
groups:
  office:
    blackout: ["08:00-18:00"]
    retention: { daily: 14, monthly: 6 }
    transfer: { rsyncOptions: ["--iconv=utf8,latin1", "--compress"], attempts: 2, ionice: { class: idle } }
    notify: [{ type: webhook, url: "http://127.0.0.1:9/office/{host}" }]
    excludes: ["/srv/cache/"]
  lab:
    schedule: hourly
    retention: { daily: 2 }
    quota: 100G
hosts:
  desk1: { address: 127.0.0.2, group: office }
  desk2: { address: 127.0.0.3, group: office, retention: { daily: 3 }, blackout: [], excludes: ["/home/*/tmp/"] }
  bench: { address: 127.0.0.4, group: lab, quota: 5G }
  plain: { address: 127.0.0.5 }
`;

test("a two-group inventory: each group's settings reach its hosts, a host's own field wins", () => {
  const inventory = parseInventory(twoGroups);
  // Retention merges field by field: defaults < group < host.
  assert.deepEqual(resolveRetention(inventory, 'desk1'), { timeZone: 'UTC', daily: 14, weekly: 4, monthly: 6 });
  assert.deepEqual(resolveRetention(inventory, 'desk2'), { timeZone: 'UTC', daily: 3, weekly: 4, monthly: 6 });
  assert.deepEqual(resolveRetention(inventory, 'plain'), { timeZone: 'UTC', daily: 7, weekly: 4 });
  // Blackout: the group's, unless the host sets its own (an empty list is a setting too).
  assert.deepEqual(resolveSchedule(inventory, 'desk1').blackout, ['08:00-18:00']);
  assert.deepEqual(resolveSchedule(inventory, 'desk2').blackout, []);
  assert.equal(resolveSchedule(inventory, 'bench').schedule, 'hourly');
  // Transfer options and excludes (which add up: group first, then the host's).
  const desk1 = resolveHost(inventory, 'desk1');
  assert.deepEqual(desk1.transfer.rsyncOptions, ['--iconv=utf8,latin1', '--compress']);
  assert.equal(desk1.transfer.attempts, 2);
  assert.deepEqual(desk1.transfer.ionice, { class: 'idle' });
  assert.deepEqual(resolveHost(inventory, 'desk2').excludes, ['/srv/cache/', '/home/*/tmp/']);
  assert.equal(resolveHost(inventory, 'bench').quota, '5G');
  assert.equal(resolveHost(inventory, 'plain').transfer.rsyncOptions, undefined);
  // The group's notify target is the host's.
  assert.deepEqual(
    resolveNotifyTargets(inventory, 'b1', 'desk1').map(({ id }) => id),
    ['hosts.desk1.notify.0'],
  );
  assert.deepEqual(resolveNotifyTargets(inventory, 'b1', 'bench'), []);
  // The rsync command line of a run carries them: allow-listed options, ionice on the host.
  const plan: BackupPlan = {
    host: 'desk1',
    server: 'b1',
    dataset: 'data/desk1',
    source: { address: desk1.address, port: 22, user: desk1.user, sudo: false },
    paths: ['/'],
    excludes: [],
    ssh: {
      identityFile: '/etc/tidemark/id_ed25519',
      knownHostsFile: '/etc/tidemark/known_hosts',
      hostKeyAlias: 'desk1',
    },
    transfer: desk1.transfer,
  };
  const args = rsyncArgs(plan, '/data/desk1');
  assert.ok(args.includes('--iconv=utf8,latin1') && args.includes('--compress'), args.join(' '));
  assert.ok(args.includes('--rsync-path=ionice -c 3 rsync'), args.join(' '));
  assert.ok(args.indexOf('--compress') < args.findIndex((arg) => arg.startsWith('backup@')), 'options before paths');
  assert.deepEqual([...hostsOfGroup(inventory, 'office')].sort(), ['desk1', 'desk2']);
  assert.throws(() => hostsOfGroup(inventory, 'ofice'), /--group: unknown group; did you mean "office"\?.*office, lab/);
});

test('an unknown group is a problem of that host only, naming the field and the known groups', () => {
  const text = `${twoGroups}  typo: { address: 127.0.0.6, group: labb }\n  broken: { address: 127.0.0.7, port: x }\n`;
  assert.throws(() => parseInventory(text), /hosts\.broken\.port/);
  const isolated = parseInventoryIsolatingHosts(text);
  assert.deepEqual(Object.keys(isolated.hosts).sort(), ['bench', 'desk1', 'desk2', 'plain']);
  assert.match(
    isolated.invalidHosts?.typo?.join() ?? '',
    /^hosts\.typo\.group: unknown group; did you mean "lab"\? \(known groups: office, lab\)/,
  );
  assert.match(isolated.invalidHosts?.broken?.join() ?? '', /hosts\.broken\.port/);
  assert.throws(() => resolveHost(isolated, 'typo'), /host "typo": its inventory entry does not validate.*group/);
  // A group's own broken field is the whole inventory's problem (every host of the group would inherit it).
  assert.throws(
    () => parseInventoryIsolatingHosts(twoGroups.replace('quota: 100G', 'quota: lots')),
    /groups\.lab\.quota: expected a size/,
  );
});

test('rsync options outside the allow-list are refused at the field; "--opt=" removes a default', () => {
  const withOptions = (options: string) =>
    `servers: { b1: { dataset: data } }\nhosts:\n  h: { address: 127.0.0.2, transfer: { rsyncOptions: ${options} } }\n`;
  assert.throws(
    () => parseInventory(withOptions('["--remove-source-files"]')),
    /hosts\.h\.transfer\.rsyncOptions\.0: refused: "--remove-source-files" is not an allowed rsync option; allowed: --iconv/,
  );
  assert.throws(
    () => parseInventory(withOptions('["--iconv=utf8;id"]')),
    /rsyncOptions\.0: refused: .*--iconv=utf8,latin1/,
  );
  assert.throws(() => parseInventory(withOptions('["--delete="]')), /rsyncOptions\.0: refused: "--delete=" removes/);
  assert.throws(() => parseInventory(withOptions('["-e", "ssh"]')), /rsyncOptions\.0: refused/);
  const inventory = parseInventory(withOptions('["--sparse=", "--timeout=", "-c", "--bwlimit=5M"]'));
  const host = resolveHost(inventory, 'h');
  const args = rsyncArgs(
    {
      host: 'h',
      server: 'b1',
      dataset: 'data/h',
      source: { address: host.address, port: 22, user: 'root', sudo: false },
      paths: ['/'],
      excludes: [],
      ssh: { identityFile: '/k', knownHostsFile: '/kh', hostKeyAlias: host.host },
      transfer: { ...host.transfer, bandwidthLimit: '1M' },
    },
    '/data/h',
  );
  assert.ok(!args.includes('--sparse') && !args.some((arg) => arg.startsWith('--timeout')), args.join(' '));
  assert.ok(args.includes('--checksum') && args.includes('--bwlimit=5M') && !args.includes('--bwlimit=1M'));
  assert.ok(args.includes('--delete') && args.includes('--one-file-system'), 'the safety options stay');
});

test('config check --explain names the origin of each setting: host, NetBox, group, defaults, built-in', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-groups-'));
  const path = join(dir, 'tidemark.yaml');
  await writeFile(path, twoGroups);
  const result = await execa(process.execPath, [cliPath, '--config', path, 'config', 'check', '--explain', 'desk2'], {
    reject: false,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const line = (setting: string) => result.stdout.split('\n').find((text) => text.trim().startsWith(`${setting} `));
  assert.match(line('retention.daily') ?? '', /= 3 {2}\(host\)$/);
  assert.match(line('retention.monthly') ?? '', /= 6 {2}\(group office\)$/);
  assert.match(line('retention.weekly') ?? '', /= 4 {2}\(defaults\)$/);
  assert.match(line('port') ?? '', /= 22 {2}\(built-in default\)$/);
  assert.match(line('excludes') ?? '', /= \["\/srv\/cache\/","\/home\/\*\/tmp\/"\] {2}\(group office \+ host\)$/);
  assert.match(line('notify') ?? '', /= \["webhook"\] {2}\(group office\)$/);
  const json = await execa(
    process.execPath,
    [cliPath, '--config', path, 'config', 'check', '--explain', 'nope', '--json'],
    {
      reject: false,
    },
  );
  assert.notEqual(json.exitCode, 0);
  assert.match(json.stderr, /"nope" is not in the inventory/);

  // A NetBox host: its custom fields (backup_group among them) are the NetBox origin.
  const merged = mergeNetboxHosts(parseInventory(twoGroups), {
    hosts: [
      {
        kind: 'virtual-machine',
        id: 7,
        name: 'nb1',
        entry: { address: '127.0.0.8', group: 'lab', paths: ['/srv'] },
      },
    ],
    warnings: [],
  });
  const explained = Object.fromEntries(explainHost(merged.inventory, 'nb1').map((item) => [item.setting, item]));
  assert.deepEqual(explained.paths, { setting: 'paths', value: ['/srv'], origin: 'netbox' });
  assert.deepEqual(explained.schedule, { setting: 'schedule', value: 'hourly', origin: 'group lab' });
  assert.deepEqual(explained.user, { setting: 'user', value: 'backup', origin: 'defaults' });
  assert.equal(explained.port?.origin, 'built-in default');
});

test("ssh.jumpHost from a group: a ProxyCommand with Tidemark's key, no config file and the jump host's own known_hosts", () => {
  const inventory = parseInventory(`
servers: { b1: { dataset: data } }
groups:
  dmz: { ssh: { jumpHost: { address: 192.0.2.9, port: 2200, user: jump, knownHostsFile: /etc/tidemark/bastion_known_hosts } } }
hosts:
  web: { address: 10.0.0.5, group: dmz }
`);
  const host = resolveHost(inventory, 'web');
  assert.deepEqual(host.jumpHost, {
    address: '192.0.2.9',
    port: 2200,
    user: 'jump',
    knownHostsFile: '/etc/tidemark/bastion_known_hosts',
  });
  const ssh = {
    identityFile: '/etc/tidemark/id_ed25519',
    knownHostsFile: '/etc/tidemark/known_hosts',
    hostKeyAlias: 'web',
    jumpHost: { ...host.jumpHost!, knownHostsFile: host.jumpHost!.knownHostsFile! },
  };
  const rsh = rshOption(sshCommand({ ssh, source: { address: host.address, port: 22, user: 'root', sudo: false } }));
  assert.match(
    rsh,
    / -o 'ProxyCommand=ssh -F \/dev\/null -p 2200 -i \/etc\/tidemark\/id_ed25519 -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=\/etc\/tidemark\/bastion_known_hosts -o GlobalKnownHostsFile=\/dev\/null -o ConnectTimeout=20 -W %h:%p -l jump -- 192\.0\.2\.9' /,
  );
  assert.throws(
    () =>
      parseInventory(
        `servers: { b1: { dataset: data } }\nhosts:\n  web: { address: 10.0.0.5, ssh: { jumpHost: { address: "a b" } } }\n`,
      ),
    /hosts\.web\.ssh\.jumpHost\.address: expected the jump host/,
  );
});
