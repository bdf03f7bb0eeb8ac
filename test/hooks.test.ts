// Hook scripts on the host before rsync (SOWN), PlanB's do-not-run veto, and the backup
// server's own before/after scripts. Real sshd, rsync, zfs-fuse and workers; the "host" is this machine.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupProgress, BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { progressQuery } from '../workflows/backup-host.js';
import { zfs } from '../pool/zfs.js';
import { activityRecord, historyText } from './helpers/history.js';
import { editInventory, setHostSettings, startServerWorker } from './helpers/inventory-edit.js';
import { createRig, testServices, type Rig } from './helpers/rig.js';

let rig: Rig;
const workerSecret = 'worker-env-secret-9d41c2';
let hooksDir: string;
let vetoDir: string;
const extraWorkers: ChildProcess[] = [];
const extraDatasets: string[] = [];

before(async () => {
  rig = await createRig('hooks');
  hooksDir = join(rig.dir, 'backup-scripts');
  vetoDir = join(rig.dir, 'do-not-run.d');
  mkdirSync(hooksDir);
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  mkdirSync(join(rig.source, 'var/lib/backup'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  // A secret in the worker's environment that no hook may see (the rig's worker inherits process.env).
  process.env.WORKER_ONLY_CREDENTIAL = workerSecret;
  setHostSettings(rig, {
    hooks: { dir: hooksDir, timeout: '20s' },
    veto: { dir: vetoDir, retryInterval: '1s', retries: 30 },
    excludeFile: join(rig.dir, 'backup-exclude.conf'),
    retention: { keepWithin: '7d' },
  });
  await rig.startWorker();
});
after(async () => {
  for (const worker of extraWorkers) worker.kill('SIGKILL');
  for (const dataset of extraDatasets) await zfs(['destroy', '-r', '-f', dataset]).catch(() => undefined);
  await rig.close();
});

function hook(name: string, body: string): void {
  writeFileSync(join(hooksDir, name), `#!/bin/bash\nset -eo pipefail\n${body}\n`);
  chmodSync(join(hooksDir, name), 0o755);
}

/** SOWN's README example, writing into the backed-up tree: a temp file then mv, so a reader (rsync, or a
 * second backup server running the same hook) sees the old or the new file, never half of one. */
const exampleHook = (out: string) => `
out=${out}
for i in $(seq 1 40); do echo "$$ line $i $(date +%s.%N)"; sleep 0.01; done > "$out.$$"
mv "$out.$$" "$out"`;

async function lastSummary(server = rig.server): Promise<BackupSummary> {
  return rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, server)).result() as Promise<BackupSummary>;
}

test('a passing hook runs on the host before rsync, and its output file is in the backup', async () => {
  hook('10-date', exampleHook(join(rig.source, 'var/lib/backup/date')));
  const loginsBefore = await rig.host.logins();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const copied = readFileSync(join(await rig.copyPath(), rig.source, 'var/lib/backup/date'), 'utf8');
  assert.equal(copied, readFileSync(join(rig.source, 'var/lib/backup/date'), 'utf8'));
  assert.equal(copied.trim().split('\n').length, 40);
  const summary = await lastSummary();
  assert.equal(summary.status, 'SUCCESS');
  assert.deepEqual(summary.hostSteps?.hooks, { status: 'passed', failed: [] });
  // Probe, hooks and rsync share one multiplexed ssh connection: one login for the whole run.
  assert.equal((await rig.host.logins()) - loginsBefore, 1, 'one ssh login per run');
});

test("a host that refuses ssh fails the run at the host check with ssh's error; the dataset step, which opens the connection early, does not fail", async () => {
  await rig.host.stop();
  let run;
  try {
    run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  } finally {
    await rig.host.start();
  }
  assert.equal(run.exitCode, 1, run.stdout + run.stderr);
  assert.match(run.stdout + run.stderr, /failed during host-check: .*Connection refused/);
  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  assert.deepEqual((await activityRecord(rig.client, workflowId, 'planAndEnsureDataset')).attempts, [1]);
});

test('with ssh.multiplex: false every step logs in on its own', async () => {
  editInventory(rig, (inventory) => {
    inventory.ssh.multiplex = false;
  });
  try {
    const loginsBefore = await rig.host.logins();
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.equal((await rig.host.logins()) - loginsBefore, 3, 'probe, hooks, rsync');
  } finally {
    editInventory(rig, (inventory) => {
      delete inventory.ssh.multiplex;
    });
  }
});

test('a failing hook makes the run FAILED naming the script and its output; the copy and snapshot still happen', async () => {
  hook('20-dump-db', 'echo "dumping db"; echo "pg_dump: connection to server failed" >&2; exit 3');
  writeFileSync(join(rig.source, 'arrives-anyway'), 'x');
  const snapshotsBefore = await rig.snapshots();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 1, run.stdout + run.stderr);
  assert.match(
    run.stdout,
    new RegExp(
      `FAILED: demo-host on \\S+: hook ${hooksDir}/20-dump-db \\(exit 3\\) failed; output: .*dumping db \\| pg_dump: connection to server failed; copied anyway: \\d+ files`,
    ),
  );
  assert.ok(
    existsSync(join(await rig.copyPath(), rig.source, 'arrives-anyway')),
    'the transfer still ran (SOWN behaviour)',
  );
  assert.equal((await rig.snapshots()).length, snapshotsBefore.length + 1, 'and a snapshot was taken');
  const summary = await lastSummary();
  assert.equal(summary.status, 'FAILED');
  assert.deepEqual(summary.hostSteps?.hooks, { status: 'failed', failed: [`${hooksDir}/20-dump-db (exit 3)`] });
  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  assert.deepEqual(
    (await activityRecord(rig.client, workflowId, 'runHostHooks')).attempts,
    [1],
    'a script failure is not retried',
  );
});

test('with onFailure: abort a failing hook skips the transfer and the snapshot', async () => {
  setHostSettings(rig, { hooks: { dir: hooksDir, timeout: '20s', onFailure: 'abort' } });
  writeFileSync(join(rig.source, 'must-not-arrive'), 'x');
  const snapshotsBefore = await rig.snapshots();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 1);
  assert.match(
    run.stdout,
    /FAILED: .*hook \S+\/20-dump-db \(exit 3\) failed; .*nothing copied \(hooks\.onFailure: abort\)/,
  );
  assert.ok(!existsSync(join(await rig.copyPath(), rig.source, 'must-not-arrive')));
  assert.deepEqual(await rig.snapshots(), snapshotsBefore);
  assert.deepEqual(
    (await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'transferFiles')).attempts,
    [],
  );
  rmSync(join(rig.source, 'must-not-arrive'));
});

test('a hook running past its timeout is killed on the host and the run fails naming it', async () => {
  rmSync(join(hooksDir, '20-dump-db'));
  hook('30-stuck', 'echo "waiting for the lock"; sleep 120');
  setHostSettings(rig, { hooks: { dir: hooksDir, timeout: '2s', onFailure: 'abort' } });
  const started = Date.now();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 1);
  assert.match(
    run.stdout,
    new RegExp(
      `FAILED: .*hook scripts in ${hooksDir}/? timed out after 2s \\(${hooksDir}/30-stuck \\(running when the time ran out\\)\\); output: .*waiting for the lock`,
    ),
  );
  // Ended by the 2 s timeout, not by the script: well before its 120 s sleep (no tighter bound: a busy machine).
  assert.ok(Date.now() - started < 100_000);
  const { execa } = await import('execa');
  assert.equal(
    (await execa('pgrep', ['-f', `${hooksDir}/30-stuck`], { reject: false })).stdout,
    '',
    'the stuck script is gone',
  );
  rmSync(join(hooksDir, '30-stuck'));
  setHostSettings(rig, { hooks: { dir: hooksDir, timeout: '20s' } });
});

test('two backup servers running the example hook at once leave a consistent file', async () => {
  // A second server in the inventory (the host goes to every server): `start-backup` starts both at once.
  const server2 = `${rig.server}-b`;
  const dataset2 = `${testServices().pool}/${rig.server.replace(/^srv-/, '')}-b`;
  extraDatasets.push(dataset2);
  editInventory(rig, (inventory) => {
    inventory.servers[server2] = { dataset: dataset2 };
  });
  extraWorkers.push(await startServerWorker(rig, server2));
  // Both hook runs wait for each other before writing, so they really overlap.
  const rendezvous = join(rig.dir, 'rendezvous');
  mkdirSync(rendezvous);
  hook(
    '05-rendezvous',
    `touch ${rendezvous}/$$; for i in $(seq 1 100); do [ "$(ls ${rendezvous} | wc -l)" -ge 2 ] && exit 0; sleep 0.1; done; echo "alone" >&2`,
  );
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.equal(run.stdout.match(/SUCCESS: demo-host/g)?.length, 2);
  } finally {
    rmSync(join(hooksDir, '05-rendezvous'));
    editInventory(rig, (inventory) => {
      delete inventory.servers[server2];
    });
  }
  const consistent = (text: string) => {
    const lines = text.trim().split('\n');
    const pids = new Set(lines.map((line) => line.split(' ')[0]));
    return lines.length === 40 && pids.size === 1;
  };
  assert.ok(consistent(readFileSync(join(rig.source, 'var/lib/backup/date'), 'utf8')), 'the host keeps one whole file');
  const copy2 = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', `${dataset2}/${rig.hostName}`])).trim();
  for (const copy of [await rig.copyPath(), copy2]) {
    assert.ok(
      consistent(readFileSync(join(copy, rig.source, 'var/lib/backup/date'), 'utf8')),
      `${copy} holds one whole file`,
    );
  }
  assert.ok(!readFileSync(join(rig.source, 'var/lib/backup/date'), 'utf8').includes('alone'));
});

test('a do-not-run file on the host postpones the run; it is retried and goes ahead once the file is gone', async () => {
  mkdirSync(vetoDir, { recursive: true });
  writeFileSync(join(vetoDir, 'kernel-upgrade'), 'back at 14:00\n');
  const hookLog = join(rig.dir, 'hook-ran');
  hook('40-log', `echo ran >> ${hookLog}`);
  const run = rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  const handle = rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server));
  let progress: BackupProgress | undefined;
  for (let i = 0; i < 100; i++) {
    progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress?.veto && progress.veto.checks >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(progress?.phase, 'vetoed');
  assert.deepEqual(progress?.veto?.files, ['kernel-upgrade']);
  assert.ok(progress!.veto!.checks >= 2, 'checked again after the interval');
  assert.ok(!existsSync(hookLog), 'no hook runs while the host says no');
  writeFileSync(join(rig.source, 'after-veto'), 'x');
  rmSync(join(vetoDir, 'kernel-upgrade'));

  const result = await run;
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  const summary = await lastSummary();
  assert.equal(summary.status, 'SUCCESS');
  assert.ok(summary.hostSteps!.vetoed >= 2);
  assert.ok(existsSync(join(await rig.copyPath(), rig.source, 'after-veto')));
  assert.ok(existsSync(hookLog));
});

test('a veto that outlasts its retries ends the run as WARNING without copying', async () => {
  setHostSettings(rig, { veto: { dir: vetoDir, retryInterval: '1s', retries: 1 } });
  writeFileSync(join(vetoDir, 'maintenance'), '');
  const snapshotsBefore = await rig.snapshots();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 5, run.stdout + run.stderr);
  assert.match(
    run.stdout,
    new RegExp(
      `WARNING: demo-host on \\S+: skipped: demo-host vetoed the backup 2 times over \\S+ \\(${vetoDir}/?: maintenance\\); nothing copied`,
    ),
  );
  assert.deepEqual(await rig.snapshots(), snapshotsBefore);
  rmSync(join(vetoDir, 'maintenance'));
});

test("the backup server's before and after scripts get the run's host, server, status and snapshot", async () => {
  const envLog = join(rig.dir, 'server-hooks.log');
  const script = (name: string) => {
    const path = join(rig.dir, name);
    writeFileSync(
      path,
      `#!/bin/sh\necho "${name} $TIDEMARK_HOST $TIDEMARK_SERVER $TIDEMARK_STATUS $TIDEMARK_SNAPSHOT" >> ${envLog}\n`,
    );
    chmodSync(path, 0o755);
    return path;
  };
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server]!.hooks = { before: script('before.sh'), after: script('after.sh') };
  });
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const summary = await lastSummary();
  const lines = readFileSync(envLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trimEnd());
  assert.deepEqual(lines, [
    `before.sh demo-host ${rig.server} RUNNING`,
    `after.sh demo-host ${rig.server} SUCCESS ${summary.snapshot}`,
  ]);
  assert.deepEqual(summary.hostSteps?.serverHooks, { before: true, after: true });

  // A failing after-script turns SUCCESS into WARNING and is named.
  writeFileSync(join(rig.dir, 'after.sh'), '#!/bin/sh\necho "icinga unreachable"; exit 2\n');
  const warned = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(warned.exitCode, 5, 'a WARNING run exits 5');
  assert.match(warned.stdout, /WARNING: .*backup server's after-hook \S+after\.sh exited 2: icinga unreachable/);
  editInventory(rig, (inventory) => {
    delete inventory.servers[rig.server]!.hooks;
  });
});

test("backup-server hooks get only PATH, LANG, HOME and the run's TIDEMARK_* facts; long output lines are cut in the history", async () => {
  const envFile = join(rig.dir, 'hook-env.txt');
  const script = join(rig.dir, 'env-after.sh');
  // It prints the worker's secret if it can see it: whatever a script prints can end up in the history.
  writeFileSync(
    script,
    `#!/bin/sh\nenv > ${envFile}\necho "credential seen: [$WORKER_ONLY_CREDENTIAL]"\nprintf '%s\\n' "$(head -c 5000 /dev/zero | tr '\\0' x)"\nexit 3\n`,
  );
  chmodSync(script, 0o755);
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server]!.hooks = { after: script };
  });
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 5, run.stdout + run.stderr);
    assert.match(run.stdout, /WARNING: .*after-hook \S+env-after\.sh exited 3/);

    const variables = new Map<string, string>();
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (match) variables.set(match[1]!, match[2]!);
    }
    variables.delete('PWD'); // set by sh itself
    assert.deepEqual([...variables.keys()].sort(), [
      'HOME',
      'LANG',
      'PATH',
      'TIDEMARK_DATASET',
      'TIDEMARK_HOST',
      'TIDEMARK_MESSAGE',
      'TIDEMARK_SERVER',
      'TIDEMARK_SNAPSHOT',
      'TIDEMARK_STATUS',
    ]);
    assert.equal(variables.get('PATH'), '/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(variables.get('LANG'), 'C.UTF-8');
    assert.equal(variables.get('TIDEMARK_HOST'), 'demo-host');

    const history = await historyText(rig.client, backupWorkflowId(rig.hostName, rig.server));
    assert.ok(
      history.includes('credential seen: []'),
      "the hook's output is in the history, without the worker's secret",
    );
    assert.ok(!history.includes(workerSecret), "the worker's secret is nowhere in the history");
    assert.ok(history.includes(`${'x'.repeat(500)}… (5000 characters)`), 'the long line is cut at 500 characters');
    assert.ok(!history.includes('x'.repeat(501)));
  } finally {
    editInventory(rig, (inventory) => {
      delete inventory.servers[rig.server]!.hooks;
    });
  }
});
